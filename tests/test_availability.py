"""Weekly rules, exceptions and time off as the office and tutors write them: refused in French when wrong."""

import re
from datetime import UTC, date, datetime, time, timedelta
from html import unescape

import pytest
from sqlalchemy import select

from tutoradmin.availability import AvailabilityError, check_exception, check_time_off, check_weekly_rule
from tutoradmin.models import AvailabilityException, TimeOff, WeeklyRule

from .shopping import count

OUTSIDE_YEARS = "Date invalide : choisissez une date entre 2000 et 2100."


@pytest.fixture
def tutor(db, make):
    tutor = make.tutor()
    make.weekly_rule(tutor, weekday=0, start=time(9), end=time(12))
    db.session.commit()
    return tutor


def _text(response):
    return unescape(response.get_data(as_text=True))


@pytest.mark.parametrize(
    "start, end", [(time(11), time(14)), (time(8), time(9, 30)), (time(10), time(11)), (time(8), time(13))]
)
def test_a_rule_overlapping_another_of_the_tutor_is_refused_naming_it(db, tutor, start, end):
    rule = WeeklyRule(tutor_id=tutor.id, weekday=0, start_time=start, end_time=end)
    with pytest.raises(AvailabilityError, match="chevauche la plage Lundi 09:00–12:00"):
        check_weekly_rule(rule)


def test_the_same_hours_twice_are_refused_as_a_duplicate(db, tutor):
    rule = WeeklyRule(tutor_id=tutor.id, weekday=0, start_time=time(9), end_time=time(12))
    with pytest.raises(AvailabilityError, match=re.escape("Cette plage existe déjà : Lundi 09:00–12:00.")):
        check_weekly_rule(rule)


def test_back_to_back_rules_other_days_and_other_tutors_are_accepted(db, make, tutor):
    other = make.tutor()
    for rule in [
        WeeklyRule(tutor_id=tutor.id, weekday=0, start_time=time(12), end_time=time(15)),
        WeeklyRule(tutor_id=tutor.id, weekday=0, start_time=time(7), end_time=time(9)),
        WeeklyRule(tutor_id=tutor.id, weekday=1, start_time=time(9), end_time=time(12)),
        WeeklyRule(tutor_id=other.id, weekday=0, start_time=time(9), end_time=time(12)),
    ]:
        check_weekly_rule(rule)


def test_a_rule_edited_does_not_overlap_itself(db, tutor):
    rule = db.session.query(WeeklyRule).one()
    rule.end_time = time(13)
    check_weekly_rule(rule)


@pytest.mark.parametrize("day", [date(1, 1, 1), date(1999, 12, 31), date(2101, 1, 1)])
def test_an_exception_outside_the_business_years_is_refused(tutor, day):
    with pytest.raises(AvailabilityError, match=OUTSIDE_YEARS):
        check_exception(AvailabilityException(tutor_id=tutor.id, date=day, kind="closed"))


@pytest.mark.parametrize("year", [1, 1999, 2101])
def test_time_off_outside_the_business_years_is_refused(tutor, year):
    start = datetime(year, 7, 1, 12, tzinfo=UTC)
    with pytest.raises(AvailabilityError, match=OUTSIDE_YEARS):
        check_time_off(TimeOff(tutor_id=tutor.id, starts_at=start, ends_at=start + timedelta(days=2)))


# Through the back office, for the office and for the tutor alike ----------------------------------


def _rule_form(view, tutor, start, end):
    data = {"weekday": "0", "start_time": start, "end_time": end}
    return data if view == "mes-horaires" else {**data, "tutor": str(tutor.id)}


@pytest.fixture(params=["horaires", "mes-horaires"])
def rules_page(request, login, login_as, tutor):
    """The office's weekly rules page (signed in as staff) or the tutor's own."""
    if request.param == "horaires":
        login_as("staff")
    else:
        login(tutor.user)
    return request.param


@pytest.mark.parametrize(
    "start, end, message",
    [
        ("10:00", "14:00", "Cette plage chevauche la plage Lundi 09:00–12:00 de ce tuteur."),
        ("09:00", "12:00", "Cette plage existe déjà : Lundi 09:00–12:00."),
    ],
)
def test_an_overlapping_rule_is_refused_on_the_form(client, db, tutor, rules_page, start, end, message):
    response = client.post(f"/admin/{rules_page}/new/", data=_rule_form(rules_page, tutor, start, end))

    assert response.status_code == 200
    assert message in _text(response)
    assert count(db, WeeklyRule) == 1


def test_a_back_to_back_rule_is_saved_from_the_form(client, db, tutor, rules_page):
    response = client.post(f"/admin/{rules_page}/new/", data=_rule_form(rules_page, tutor, "12:00", "15:00"))

    assert response.status_code == 302
    assert count(db, WeeklyRule) == 2


def test_a_rule_moved_onto_another_is_refused_on_the_edit_form(client, db, tutor, rules_page):
    later = WeeklyRule(tutor_id=tutor.id, weekday=0, start_time=time(13), end_time=time(15))
    db.session.add(later)
    db.session.commit()

    response = client.post(
        f"/admin/{rules_page}/edit/?id={later.id}", data=_rule_form(rules_page, tutor, "11:00", "15:00")
    )

    assert response.status_code == 200
    assert "chevauche la plage Lundi 09:00–12:00" in _text(response)
    db.session.expire_all()
    assert db.session.get(WeeklyRule, later.id).start_time == time(13)


@pytest.mark.parametrize("view", ["conges", "mes-conges"])
@pytest.mark.parametrize(
    "start, end",
    [
        ("0001-01-01 10:00", "0001-01-02 10:00"),
        ("1999-12-30 10:00", "1999-12-31 10:00"),
        ("2101-06-01 10:00", "2101-06-02 10:00"),
    ],
)
def test_time_off_typed_outside_the_business_years_is_refused_on_the_form(
    client, db, login, login_as, tutor, view, start, end
):
    login(tutor.user) if view == "mes-conges" else login_as("staff")
    data = {"starts_at": start, "ends_at": end, "reason": "Vacances", "tutor": str(tutor.id)}

    response = client.post(f"/admin/{view}/new/", data=data)

    assert response.status_code == 200
    assert "Date invalide" in _text(response)
    assert count(db, TimeOff) == 0


@pytest.mark.parametrize("view", ["exceptions", "mes-exceptions"])
@pytest.mark.parametrize("day", ["0001-01-01", "1999-12-31", "2101-01-01"])
def test_an_exception_typed_outside_the_business_years_is_refused_on_the_form(
    client, db, login, login_as, tutor, view, day
):
    login(tutor.user) if view == "mes-exceptions" else login_as("staff")
    data = {"date": day, "kind": "closed", "note": "", "tutor": str(tutor.id)}

    response = client.post(f"/admin/{view}/new/", data=data)

    assert response.status_code == 200
    assert "Date invalide" in _text(response)
    assert count(db, AvailabilityException) == 0


def test_the_edit_form_shows_times_as_hours_and_minutes(client, db, tutor, rules_page):
    rule = db.session.scalars(select(WeeklyRule).where(WeeklyRule.tutor_id == tutor.id)).first()

    page = client.get(f"/admin/{rules_page}/edit/?id={rule.id}").get_data(as_text=True)

    assert 'value="09:00"' in page and 'value="12:00"' in page
    assert "09:00:00" not in page and 'data-date-format="HH:mm"' in page

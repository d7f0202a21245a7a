"""HTTP wiring of the slot API and the booking page: statuses, French messages, no tutor names leaked."""

from datetime import date, time, timedelta

import pytest

from tutoradmin.localtime import LOCAL_TZ, local_instant
from tutoradmin.offers import opening_month
from tutoradmin.slots import BookingRules

from .booking_requests import course_offer


@pytest.fixture
def offer(db, make):
    return course_offer(db, make)


# Slot API


def test_day_slots_hide_which_tutor_has_them(client, offer):
    response = client.get(
        f"/api/cours/{offer.slug}/creneaux", query_string={"date": offer.day.isoformat(), "duree": 90}
    )
    assert response.status_code == 200
    data = response.get_json()
    assert data["duree"] == 90 and data["date"] == offer.day.isoformat()
    first = data["creneaux"][0]
    assert first["debut"] == offer.start().astimezone(LOCAL_TZ).isoformat()
    assert (first["duree"], first["prix_cents"]) == (90, 6750)
    assert len(data["creneaux"]) == 14  # 9:00 … 15:30, once each although two tutors are free
    body = response.get_data(as_text=True)
    assert "tuteur" not in body and "Alice" not in body and "Bruno" not in body


def test_day_slots_of_a_chosen_tutor_name_that_tutor(client, offer):
    response = client.get(
        f"/api/cours/{offer.slug}/creneaux",
        query_string={"date": offer.day.isoformat(), "duree": 60, "tuteur": offer.other.id},
    )
    assert response.status_code == 200
    assert {s["tuteur_id"] for s in response.get_json()["creneaux"]} == {offer.other.id}


def test_month_days_list_the_days_with_slots(client, offer):
    response = client.get(
        f"/api/cours/{offer.slug}/disponibilites", query_string={"mois": offer.day.strftime("%Y-%m"), "duree": 120}
    )
    assert response.status_code == 200
    assert offer.day.isoformat() in response.get_json()["jours"]


def test_bad_slot_parameters_get_a_400_in_french(client, offer):
    day = offer.day.isoformat()
    cases = [
        ("creneaux", {"duree": 60}, "Le paramètre « date » est obligatoire"),
        ("creneaux", {"date": "2026-13-01", "duree": 60}, "Date invalide"),
        ("creneaux", {"date": "demain", "duree": 60}, "Date invalide"),
        ("creneaux", {"date": day, "duree": 45}, "Durée invalide : choisissez 60, 90 ou 120 minutes."),
        ("creneaux", {"date": day, "duree": "1h"}, "Durée invalide"),
        ("creneaux", {"date": day}, "Durée invalide"),
        ("creneaux", {"date": day, "duree": 60, "tuteur": "abc"}, "Identifiant de tuteur invalide."),
        ("creneaux", {"date": day, "duree": 60, "tuteur": "-3"}, "Identifiant de tuteur invalide."),
        ("disponibilites", {"duree": 60}, "Le paramètre « mois » est obligatoire"),
        ("disponibilites", {"mois": "2026-1", "duree": 60}, "Mois invalide"),
        ("disponibilites", {"mois": "2026/12", "duree": 60}, "Mois invalide"),
        ("disponibilites", {"mois": "décembre", "duree": 60}, "Mois invalide"),
        ("disponibilites", {"mois": "2026-00", "duree": 60}, "Mois invalide"),
        ("disponibilites", {"mois": day[:7], "duree": 30}, "Durée invalide"),
    ]
    for path, params, message in cases:
        response = client.get(f"/api/cours/{offer.slug}/{path}", query_string=params)
        assert response.status_code == 400, params
        assert message in response.get_json()["error"], params


def test_days_and_months_outside_the_booking_window_have_no_slots(client, offer):
    for days in (-37, -8, 55, 365 * 900):  # from a week ahead: past, today, past the horizon, far away
        day = offer.day + timedelta(days=days)
        response = client.get(f"/api/cours/{offer.slug}/creneaux", query_string={"date": day.isoformat(), "duree": 60})
        assert response.status_code == 200 and response.get_json()["creneaux"] == [], day
    for months in (-2, 3, 12 * 900):
        month = offer.day.year * 12 + offer.day.month - 1 + months
        mois = f"{month // 12}-{month % 12 + 1:02d}"
        response = client.get(f"/api/cours/{offer.slug}/disponibilites", query_string={"mois": mois, "duree": 60})
        assert response.status_code == 200 and response.get_json()["jours"] == [], mois


def test_extreme_dates_are_refused_cleanly(client, offer):
    for day in ("9999-12-31", "0001-01-01"):
        for url, params in (
            (f"/api/cours/{offer.slug}/creneaux", {"date": day, "duree": 60}),
            (f"/api/cours/{offer.slug}/disponibilites", {"mois": day[:7], "duree": 60}),
            (f"/cours/{offer.slug}/reservation", {"date": day, "duree": 60}),
            (f"/cours/{offer.slug}/reservation", {"mois": day[:7], "duree": 60}),
        ):
            response = client.get(url, query_string=params)
            assert response.status_code == 400, (url, params)
            text = response.get_data(as_text=True)
            assert "Date invalide" in text or "Mois invalide" in text


def test_an_unknown_or_inactive_course_is_a_json_404(client, db, make):
    make.course(slug="retire", active=False)
    db.session.commit()
    for slug in ("inconnu", "retire"):
        for path in ("creneaux?date=2026-12-07&duree=60", "disponibilites?mois=2026-12&duree=60"):
            response = client.get(f"/api/cours/{slug}/{path}")
            assert response.status_code == 404
            assert response.get_json() == {"error": "Page introuvable."}


def test_a_tutor_who_does_not_teach_the_course_is_a_json_404(client, offer, make, db):
    outsider = make.tutor(courses=[make.course()])
    db.session.commit()
    for tutor_id in (outsider.id, 999999):
        response = client.get(
            f"/api/cours/{offer.slug}/creneaux",
            query_string={"date": offer.day.isoformat(), "duree": 60, "tuteur": tutor_id},
        )
        assert response.status_code == 404
        assert response.get_json() == {"error": "Ce tuteur n'enseigne pas ce cours."}


def test_the_booking_page_refuses_bad_input_in_french(client, offer):
    assert client.get(f"/cours/{offer.slug}/reservation?duree=45").status_code == 400
    assert "Durée invalide" in client.get(f"/cours/{offer.slug}/reservation?duree=45").get_data(as_text=True)
    assert client.get(f"/cours/{offer.slug}/reservation?tuteur=999999").status_code == 404
    assert client.get("/cours/inconnu/reservation").status_code == 404
    assert client.head(f"/cours/{offer.slug}/reservation?duree=45").status_code == 400


def test_the_calendar_opens_on_the_next_month_when_this_one_has_nothing_left(app, client, make, db):
    course = make.course()
    tutor = make.tutor(courses=[course])
    for weekday in range(7):
        make.weekly_rule(tutor, weekday=weekday, start=time(9), end=time(12))
    db.session.commit()
    rules = BookingRules()
    # 01:00 on 31 January: the earliest start is 13:00, after that day's hours.
    late = local_instant(date(2027, 1, 31), time(1))
    month, days = opening_month(course, 60, late, rules)
    assert month == date(2027, 2, 1) and days[0] == date(2027, 2, 1)
    # Earlier in the month the calendar stays on the current month.
    month, days = opening_month(course, 60, local_instant(date(2027, 1, 10), time(1)), rules)
    assert month == date(2027, 1, 1) and days[0] == date(2027, 1, 11)

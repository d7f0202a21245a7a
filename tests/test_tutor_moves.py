"""A tutor moves a session of theirs, 24 h ahead at least, to another of their free slots, with a reason."""

import html
from datetime import time, timedelta

import pytest
from sqlalchemy import select

from tutoradmin import rescheduling
from tutoradmin.appointments import AppointmentError
from tutoradmin.localtime import LOCAL_TZ, local_instant, to_local
from tutoradmin.models import Appointment, AppointmentChange, OutboxEvent, utcnow
from tutoradmin.occupancy import SlotTaken, release_appointment
from tutoradmin.slots import BookingRules

from .shopping import count, row_counts

RULES = BookingRules()
NOTICE = 24


class Setting:
    """A course taught by `tutor` (free 9:00–12:00) and `other` (13:00–17:00, served first); a day in a week."""

    def __init__(self, db, make, now, tutor=None):
        self.course = make.course(title="Calcul intégral")
        self.tutor = tutor or make.tutor()
        self.tutor.courses.append(self.course)
        self.other = make.tutor(courses=[self.course], priority=0)
        for weekday in range(7):
            make.weekly_rule(self.tutor, weekday=weekday, start=time(9), end=time(12))
            make.weekly_rule(self.other, weekday=weekday, start=time(13), end=time(17))
        self.day = (now.astimezone(LOCAL_TZ) + timedelta(days=7)).date()
        self.session = (
            make.booked_order(items=1, course=self.course, tutor=self.tutor, first_start=self.at(10))
            .items[0]
            .appointment
        )
        db.session.commit()

    def at(self, hour, minute=0, days=0):
        return local_instant(self.day + timedelta(days=days), time(hour, minute))


@pytest.fixture
def setting(db, make, now):
    return Setting(db, make, now)


def _state(db, appointment):
    db.session.expire_all()
    row = db.session.get(Appointment, appointment.id)
    return row.starts_at, row.tutor_id, count(db, AppointmentChange), count(db, OutboxEvent)


# --- the rule -------------------------------------------------------------------------------


def test_a_tutor_moves_their_session_to_another_of_their_slots_and_the_student_is_told(db, setting, now):
    session, user = setting.session, setting.tutor.user
    new_start = setting.at(11, days=1)

    change = rescheduling.tutor_move(session, user, new_start, "  Rendez-vous médical  ", now, NOTICE, RULES)
    db.session.commit()

    db.session.expire_all()
    moved = db.session.get(Appointment, session.id)
    assert (moved.starts_at, moved.tutor_id) == (new_start, setting.tutor.id)
    assert (change.actor_id, change.reason, change.previous_starts_at) == (
        user.id,
        "Rendez-vous médical",
        setting.at(10),
    )
    event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.event_type == "booking.rescheduled"))
    assert event.ordering_key == f"student:{moved.student_id}"
    assert event.payload["rescheduled_by"]["role"] == "tutor"


def test_the_student_reads_the_tutors_reason_in_the_sessions_history(client, db, login, setting, now):
    rescheduling.tutor_move(
        setting.session, setting.tutor.user, setting.at(11, days=1), "Rendez-vous médical", now, NOTICE, RULES
    )
    db.session.commit()
    login(setting.session.student)

    page = html.unescape(client.get(f"/tableau-de-bord/seances/{setting.session.id}").get_data(as_text=True))

    assert ": Rendez-vous médical" in page


def test_a_tutor_cannot_take_another_tutors_time_even_when_that_tutor_is_served_first(db, setting, now):
    before = _state(db, setting.session)
    with pytest.raises(SlotTaken):
        rescheduling.tutor_move(setting.session, setting.tutor.user, setting.at(14), "Motif", now, NOTICE, RULES)
    db.session.rollback()
    assert _state(db, setting.session) == before


@pytest.mark.parametrize(
    ("case", "refusal"),
    [
        ("too late", "Trop tard pour déplacer en ligne : une séance se déplace au plus tard 24 h"),
        ("no reason", "Indiquez le motif du déplacement"),
        ("long reason", "Le motif dépasse 1000 caractères"),
        ("not theirs", "Cette séance n'est pas la vôtre"),
        ("cancelled", "Seule une séance à venir peut être déplacée"),
    ],
)
def test_the_tutors_move_is_refused_in_french_with_nothing_changed(db, make, setting, now, case, refusal):
    session, user, at, reason = setting.session, setting.tutor.user, now, "Motif"
    if case == "too late":
        at = session.starts_at - timedelta(hours=NOTICE) + timedelta(seconds=1)
    elif case == "no reason":
        reason = "   "
    elif case == "long reason":
        reason = "x" * 1001
    elif case == "not theirs":
        user = setting.other.user
    elif case == "cancelled":
        session.status, session.cancelled_at = "cancelled", now
        release_appointment(session.id)
        db.session.commit()
    before = _state(db, session)

    with pytest.raises(AppointmentError, match=refusal):
        rescheduling.tutor_move(session, user, setting.at(11, days=1), reason, at, NOTICE, RULES)
    db.session.rollback()
    assert _state(db, session) == before


def test_a_tutor_may_move_until_exactly_the_notice_before_the_start(db, setting):
    at_limit = setting.session.starts_at - timedelta(hours=NOTICE)
    rescheduling.tutor_move(setting.session, setting.tutor.user, setting.at(11), "Motif", at_limit, NOTICE, RULES)
    db.session.commit()
    assert db.session.get(Appointment, setting.session.id).starts_at == setting.at(11)


# --- the page -------------------------------------------------------------------------------


@pytest.fixture
def signed_in(db, make, login_as, now):
    user = login_as("tutor")
    return Setting(db, make, now, tutor=user.tutor_profile)


def _radio(moment):
    return f'value="{to_local(moment).isoformat()}"'


def test_the_move_page_lists_the_tutors_own_free_slots_by_day_and_moves_with_a_reason(client, db, signed_in):
    url = f"/admin/mes-rendez-vous/deplacer/{signed_in.session.id}"
    page = client.get(url).get_data(as_text=True)

    assert _radio(signed_in.at(11)) in page and _radio(signed_in.at(9, 30)) in page
    assert _radio(signed_in.at(10)) not in page  # its own time
    assert _radio(signed_in.at(14)) not in page  # the other tutor's time
    assert _radio(signed_in.at(11, days=2)) in page
    assert "Déplacer une séance" in page

    before = _state(db, signed_in.session)
    refused = client.post(url, data={"debut": to_local(signed_in.at(11)).isoformat(), "reason": ""})
    assert refused.status_code == 400 and "Indiquez le motif du déplacement" in refused.get_data(as_text=True)
    assert _state(db, signed_in.session) == before

    response = client.post(url, data={"debut": to_local(signed_in.at(11)).isoformat(), "reason": "Imprévu"})
    assert response.status_code == 302
    assert "Séance déplacée au" in client.get(response.location).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Appointment, signed_in.session.id).starts_at == signed_in.at(11)
    assert db.session.scalar(select(AppointmentChange.reason)) == "Imprévu"


@pytest.mark.parametrize("debut", ["", "demain", "2030-01-07T10:00", "2030-01-07T10:00:00-05:00", "0001-01-01T00:00Z"])
def test_a_bad_or_unavailable_time_is_refused_in_french_and_writes_nothing(client, db, signed_in, debut):
    before = row_counts(db)
    response = client.post(
        f"/admin/mes-rendez-vous/deplacer/{signed_in.session.id}", data={"debut": debut, "reason": "Motif"}
    )
    assert response.status_code == 400
    text = html.unescape(response.get_data(as_text=True))
    assert any(m in text for m in ("Choisissez un nouveau créneau", "eure de début", "n'est plus disponible"))
    db.session.expire_all()
    assert row_counts(db) == before


def test_the_move_page_pages_through_the_coming_days_and_refuses_a_bad_date(client, signed_in):
    url = f"/admin/mes-rendez-vous/deplacer/{signed_in.session.id}"
    later = client.get(f"{url}?du={(signed_in.day + timedelta(days=10)).isoformat()}").get_data(as_text=True)
    assert _radio(signed_in.at(11, days=10)) in later and _radio(signed_in.at(11)) not in later
    assert "Jours précédents" in later
    assert client.get(f"{url}?du=pas-une-date").status_code == 400


def test_another_tutors_session_is_not_found_and_a_close_one_is_refused(client, db, make, signed_in, now):
    theirs = make.booked_order(items=1).items[0].appointment
    close = (
        make.booked_order(
            items=1,
            tutor=signed_in.tutor,
            first_start=now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=20),
        )
        .items[0]
        .appointment
    )
    db.session.commit()

    assert client.get(f"/admin/mes-rendez-vous/deplacer/{theirs.id}").status_code == 404
    assert client.post(f"/admin/mes-rendez-vous/deplacer/{theirs.id}", data={"reason": "x"}).status_code == 404
    response = client.get(f"/admin/mes-rendez-vous/deplacer/{close.id}")
    assert response.status_code == 302
    assert "Trop tard pour déplacer en ligne" in client.get(response.location).get_data(as_text=True)


def test_the_list_offers_to_move_upcoming_sessions_only(client, db, make, signed_in):
    past_start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(days=2)
    past = make.appointment(tutor=signed_in.tutor, course=signed_in.course, starts_at=past_start, status="completed")
    db.session.commit()
    upcoming = client.get("/admin/mes-rendez-vous/").get_data(as_text=True)
    assert f"/admin/mes-rendez-vous/deplacer/{signed_in.session.id}" in upcoming
    done = client.get("/admin/mes-rendez-vous/?periode=passees").get_data(as_text=True)
    assert f"/admin/mes-rendez-vous/messages/{past.id}" in done
    assert f"/admin/mes-rendez-vous/deplacer/{past.id}" not in done

"""The private calendar feed: a tutor's sessions in the tutor's words, a date window, revocation."""

from datetime import timedelta

import icalendar
import pytest

from tutoradmin import ical
from tutoradmin.models import MeetingLink, utcnow


@pytest.fixture
def tutor(db, make):
    course = make.course(title="Calcul différentiel")
    tutor = make.tutor(courses=[course], display_name="Léa Tremblay")
    tutor.user.calendar_token = ical.new_token()
    return tutor


def _hour(days):
    return utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(days=days)


def _feed(client, user):
    response = client.get(f"/calendrier/{user.calendar_token}.ics")
    assert response.status_code == 200, response.get_data(as_text=True)
    return {int(str(e["uid"]).split("@")[0].removeprefix("appointment-")): e for e in _events(response)}


def _events(response):
    return icalendar.Calendar.from_ical(response.data).walk("VEVENT")


def test_a_tutors_feed_names_the_student_and_links_to_the_back_office(app, db, make, client, tutor):
    student = make.user(first_name="Camille", last_name="Roy")
    course = tutor.courses[0]
    session = make.appointment(student=student, tutor=tutor, course=course, starts_at=_hour(3))
    db.session.add(MeetingLink(appointment=session, provider="zoom", url="https://zoom.us/j/123"))
    db.session.commit()

    (event,) = _feed(client, tutor.user).values()

    base = app.config["PUBLIC_BASE_URL"]
    assert str(event["summary"]) == "Séance avec Camille — Calcul différentiel"
    assert str(event["url"]) == f"{base}/admin/mes-rendez-vous/details/?id={session.id}"
    description = str(event["description"])
    assert "https://zoom.us/j/123" in description and "/admin/mes-rendez-vous/details/" in description
    assert "/tableau-de-bord" not in description and "Roy" not in description


def test_the_students_feed_keeps_the_students_words(app, db, make, client, tutor):
    student = make.user(calendar_token=ical.new_token())
    session = make.appointment(student=student, tutor=tutor, course=tutor.courses[0], starts_at=_hour(3))
    db.session.commit()

    (event,) = _feed(client, student).values()
    assert str(event["summary"]) == "Calcul différentiel avec Léa Tremblay"
    assert str(event["url"]) == f"{app.config['PUBLIC_BASE_URL']}/tableau-de-bord/seances/{session.id}"


@pytest.mark.parametrize("whose", ["tutor", "student"])
def test_the_feed_covers_90_days_back_to_365_days_ahead_cancelled_sessions_included(db, make, client, tutor, whose):
    student = make.user(calendar_token=ical.new_token())

    def session(days, **fields):
        return make.appointment(student=student, tutor=tutor, course=tutor.courses[0], starts_at=_hour(days), **fields)

    kept = {
        "recent": session(-80, status="completed"),
        "cancelled": session(10, status="cancelled", cancelled_at=_hour(0), cells=False),
        "next year": session(360),
    }
    left_out = [session(-100, status="completed"), session(370)]
    db.session.commit()

    events = _feed(client, tutor.user if whose == "tutor" else student)

    assert set(events) == {a.id for a in kept.values()}
    assert not set(events) & {a.id for a in left_out}
    assert str(events[kept["cancelled"].id]["status"]) == "CANCELLED"
    assert str(events[kept["next year"].id]["status"]) == "CONFIRMED"


def test_a_revoked_or_renewed_tutor_feed_is_not_found(db, make, client, tutor):
    make.appointment(tutor=tutor, course=tutor.courses[0])
    db.session.commit()
    old = tutor.user.calendar_token
    assert client.get(f"/calendrier/{old}.ics").status_code == 200

    renewed = ical.renew_token(tutor.user)
    db.session.commit()
    assert client.get(f"/calendrier/{old}.ics").status_code == 404
    assert client.get(f"/calendrier/{renewed}.ics").status_code == 200

    ical.revoke_token(tutor.user)
    db.session.commit()
    assert tutor.user.calendar_token is None
    assert client.get(f"/calendrier/{renewed}.ics").status_code == 404

"""Reminders 24 hours before a session: once per session and start time, never for a cancelled one."""

from datetime import timedelta

from sqlalchemy import func, select

from tutoradmin import appointments, reminders
from tutoradmin.extensions import db as _db
from tutoradmin.models import OutboxEvent, OutboxEventType
from tutoradmin.occupancy import occupy, release_appointment
from tutoradmin.reminders import reminder_key, send_reminders

from .races import race


def reminded(db):
    """{appointment id: number of reminders queued}."""
    rows = db.session.scalars(
        select(OutboxEvent.payload).where(OutboxEvent.event_type == OutboxEventType.BOOKING_REMINDER.value)
    ).all()
    counts = {}
    for payload in rows:
        appointment_id = payload["session"]["appointment_id"]
        counts[appointment_id] = counts.get(appointment_id, 0) + 1
    return counts


def hour(now, hours):
    """A whole hour `hours` from `now` (sessions start on the hour or half hour)."""
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=hours)


def test_a_session_within_24_hours_is_reminded_once_across_two_runs(db, make, now):
    appointment = make.appointment(starts_at=hour(now, 6))
    db.session.commit()

    assert send_reminders(now) == 1
    db.session.commit()
    assert send_reminders(now + timedelta(minutes=10)) == 0
    db.session.commit()

    assert reminded(db) == {appointment.id: 1}
    assert appointment.reminder_sent_at == now


def test_no_reminder_for_cancelled_far_or_started_sessions(db, make, now):
    cancelled = make.appointment(starts_at=hour(now, 5))
    appointments.cancel(cancelled, "Empêchement", None, now)
    make.appointment(starts_at=hour(now, 26))  # more than 24 hours away
    make.appointment(starts_at=hour(now, 0))  # already started
    completed = make.appointment(starts_at=hour(now, 8), status="completed")
    due = make.appointment(starts_at=hour(now, 24))  # the last whole hour within 24 hours
    db.session.commit()

    assert send_reminders(now) == 1
    db.session.commit()

    assert reminded(db) == {due.id: 1}
    assert completed.reminder_sent_at is None


def test_a_moved_session_is_reminded_again_for_its_new_time(db, make, now):
    appointment = make.appointment(starts_at=hour(now, 4))
    db.session.commit()
    assert send_reminders(now) == 1
    db.session.commit()
    first_key = reminder_key(appointment)

    release_appointment(appointment.id)
    appointment.starts_at, appointment.ends_at = hour(now, 7), hour(now, 8)
    occupy(appointment.tutor_id, appointment.starts_at, appointment.ends_at, appointment_id=appointment.id)
    db.session.commit()

    assert send_reminders(now) == 1
    db.session.commit()
    assert send_reminders(now) == 0
    keys = db.session.scalars(select(OutboxEvent.dedupe_key).order_by(OutboxEvent.id)).all()
    assert keys == [first_key, reminder_key(appointment)] and keys[0] != keys[1]


def test_the_cli_command_queues_the_reminders_and_says_how_many(app, db, make, now):
    make.appointment(starts_at=hour(now, 3))
    make.appointment(starts_at=hour(now, 5))
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["send-reminders"])
    again = app.test_cli_runner().invoke(args=["send-reminders"])

    assert result.exit_code == 0 and "Rappels de séance mis en file d'envoi : 2." in result.output
    assert again.exit_code == 0 and ": 0." in again.output
    assert sum(reminded(db).values()) == 2


def test_two_runs_at_the_same_moment_queue_each_reminder_once(app, db, make, now, pg_engine, quiet, monkeypatch):
    ids = [make.appointment(starts_at=hour(now, hours)).id for hours in (2, 3, 5)]
    quiet()
    # Neither run skips what the other queued: the database's unique key alone keeps them apart.
    monkeypatch.setattr(reminders, "_queued_keys", lambda now: set())

    def run():
        # Its own app context: its own session and connection, as a second cron job would have.
        with app.app_context():
            queued = send_reminders(now)
            _db.session.commit()
            return queued

    results = race([run, run])

    assert sum(results) == 3, results
    assert reminded(db) == dict.fromkeys(ids, 1)
    assert db.session.scalar(select(func.count()).select_from(OutboxEvent)) == 3

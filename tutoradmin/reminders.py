"""Session reminders, 24 hours ahead (SPEC §11): one `booking.reminder` per session and start time.

"Once" is the outbox's unique dedupe key, which names the start time: two runs at the same moment
queue one reminder between them, and a session moved to another time gets a new one.
"""

from datetime import UTC, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from . import events, outbox
from .extensions import db
from .models import Appointment, AppointmentStatus, OutboxEvent, OutboxEventType, Tutor

#: How long before a session its reminder goes out.
REMINDER_LEAD = timedelta(hours=24)
KEY_PREFIX = "booking.reminder:appointment:"


def reminder_key(appointment):
    """The reminder's dedupe key: the session and its start time, in UTC."""
    return f"{KEY_PREFIX}{appointment.id}:{appointment.starts_at.astimezone(UTC):%Y%m%dT%H%MZ}"


def due(now):
    """Scheduled sessions starting within the next 24 hours (not started yet), soonest first."""
    return (
        select(Appointment)
        .where(
            Appointment.status == AppointmentStatus.SCHEDULED.value,
            Appointment.starts_at > now,
            Appointment.starts_at <= now + REMINDER_LEAD,
        )
        .order_by(Appointment.starts_at, Appointment.id)
        # What each reminder's payload names, loaded with the sessions rather than one query per session.
        .options(
            selectinload(Appointment.student),
            selectinload(Appointment.tutor).selectinload(Tutor.user),
            selectinload(Appointment.course),
            selectinload(Appointment.meeting_link),
        )
    )


def _queued_keys(now):
    """Reminder keys already in the outbox for this window (those sessions are skipped cheaply)."""
    return set(
        db.session.scalars(
            select(OutboxEvent.dedupe_key).where(
                OutboxEvent.dedupe_key.startswith(KEY_PREFIX),
                OutboxEvent.created_at >= now - 2 * REMINDER_LEAD,
            )
        )
    )


def send_reminders(now):
    """Queue the reminder of every session due one; returns how many were queued. The caller commits."""
    already = _queued_keys(now)
    queued = 0
    for appointment in db.session.scalars(due(now)).all():
        key = reminder_key(appointment)
        if key in already:
            continue
        event = outbox.emit(
            OutboxEventType.BOOKING_REMINDER,
            events.booking_reminder(appointment),
            key,
            now,
            ordering_key=f"student:{appointment.student_id}",
        )
        if event is not None:  # None: another run queued it first
            appointment.reminder_sent_at = now
            queued += 1
    return queued

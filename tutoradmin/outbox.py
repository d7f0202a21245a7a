"""Outbound events for the automation platform, written in the caller's transaction."""

from sqlalchemy import select

from .extensions import db
from .models import OutboxEvent


def emit(event_type, payload, dedupe_key, now):
    """Queue an event once per `dedupe_key`; the caller commits it with the change it describes."""
    exists = db.session.scalar(select(OutboxEvent.id).where(OutboxEvent.dedupe_key == dedupe_key))
    if exists is not None:
        return None
    event = OutboxEvent(
        event_type=str(event_type), payload=payload, dedupe_key=dedupe_key, created_at=now, next_attempt_at=now
    )
    db.session.add(event)
    return event

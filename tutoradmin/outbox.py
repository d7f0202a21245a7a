"""Outbound events for the automation platform, written in the caller's transaction."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .models import OutboxEvent


def emit(event_type, payload, dedupe_key, now, ordering_key=None):
    """Queue an event once per `dedupe_key`; the caller commits it with the change it describes.

    Events with the same `ordering_key` (e.g. "student:7") are delivered in the order they were written.
    """
    exists = db.session.scalar(select(OutboxEvent.id).where(OutboxEvent.dedupe_key == dedupe_key))
    if exists is not None:
        return None
    event = OutboxEvent(
        event_type=str(event_type),
        payload=payload,
        dedupe_key=dedupe_key,
        ordering_key=ordering_key,
        created_at=now,
        next_attempt_at=now,
    )
    # Two transactions may both find no such event (two first payments of one account at once): the
    # unique key lets one queue it, and the other carries on without it instead of failing.
    try:
        with db.session.begin_nested():
            db.session.add(event)
    except IntegrityError:
        return None
    return event

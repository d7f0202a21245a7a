"""Outbound events for the automation platform, written in the caller's transaction."""

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from . import audit
from .errors import DomainError
from .extensions import db
from .models import OutboxEvent, OutboxStatus, utcnow


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


RESEND_WHILE_CLAIMED = "Envoi en cours : réessayez dans une minute."
#: What a delivery that needs the office's eyes ends as (SPEC §9, "failed deliveries").
NEEDS_ATTENTION = (OutboxStatus.FAILED.value, OutboxStatus.STOPPED.value)


def _iso(moment):
    return moment.isoformat() if moment is not None else None


def resend(event, actor, now):
    """Queue `event` again, due now, with its attempts reset; False when it already waits untried.

    Refused while a worker holds it (its claim runs past `now`): that worker is sending it.
    """
    # The row lock makes two clicks (or two members of staff) resend once: the second reads the first's result.
    db.session.refresh(event, with_for_update=True)
    if event.claimed_until is not None and event.claimed_until > now:
        raise DomainError(RESEND_WHILE_CLAIMED)
    # Compared with the clock read after the lock: a resend committed while this request waited for the row
    # may be due later than the `now` this request read before waiting, and it is still the same resend.
    due_by = max(now, utcnow())
    if event.status == OutboxStatus.PENDING and event.attempts == 0 and event.next_attempt_at <= due_by:
        return False
    before = {
        "status": event.status,
        "attempts": event.attempts,
        "next_attempt_at": _iso(event.next_attempt_at),
        "delivered_at": _iso(event.delivered_at),
    }
    event.status = OutboxStatus.PENDING.value
    event.attempts = 0
    event.next_attempt_at = now
    event.delivered_at = None
    # An expired claim (its worker died) would only get in the next worker's way.
    event.claim_token = None
    event.claimed_until = None
    # `last_error` stays: it tells staff what went wrong until the next attempt replaces it.
    audit.record(actor, "outbox.resent", event, now, before=before, after={"status": event.status, "attempts": 0})
    return True


def attention_counts():
    """{status: number of events} for the deliveries that gave up (failed, stopped), zeros included."""
    rows = db.session.execute(
        select(OutboxEvent.status, func.count())
        .where(OutboxEvent.status.in_(NEEDS_ATTENTION))
        .group_by(OutboxEvent.status)
    ).all()
    return {**dict.fromkeys(NEEDS_ATTENTION, 0), **dict(rows)}

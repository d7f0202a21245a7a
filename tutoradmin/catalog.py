"""Changes to the catalogue that others hear about: a new course, a tutor's new hourly rate."""

from . import audit, events, outbox
from .models import OutboxEventType

RATE_FIELD = "hourly_rate_cents"


def announce_course(course, now):
    """Queue `course.created` for a course just added (flushed, so that it has its id); the caller commits."""
    outbox.emit(
        OutboxEventType.COURSE_CREATED, events.course_created(course), f"course.created:course:{course.id}", now
    )


def record_rate_change(tutor, actor, now):
    """After an edit of a tutor: audit a new hourly rate and queue `tutor.rate.updated`; nothing if unchanged."""
    changed = audit.changes(tutor, [RATE_FIELD])
    if changed is None:
        return None
    before, after = changed
    audit.record(actor, "tutor.rate_changed", tutor, now, before=before, after=after)
    old_cents, new_cents = before[RATE_FIELD], after[RATE_FIELD]
    return outbox.emit(
        OutboxEventType.TUTOR_RATE_UPDATED,
        events.tutor_rate_updated(tutor, old_cents, new_cents),
        f"tutor.rate.updated:tutor:{tutor.id}:{old_cents}-{new_cents}:{now:%Y%m%dT%H%M%S%fZ}",
        now,
    )

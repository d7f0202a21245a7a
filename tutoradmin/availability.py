"""Availability as tutors and the office write it: weekly rules, exceptions and time off (SPEC §4, §10).

Each `check_*` refuses a row with a French message before it is saved, whichever view writes it;
the database holds the same rules (models/availability.py) for anything that gets past.
"""

from sqlalchemy import select

from . import events, outbox
from .errors import DomainError
from .extensions import db
from .formatting import local_date, local_datetime
from .models import (
    EXCEPTION_KIND_LABELS,
    AvailabilityException,
    ExceptionKind,
    OutboxEvent,
    OutboxEventType,
    OutboxStatus,
    WeeklyRule,
)
from .models.dates import OUTSIDE_BUSINESS_YEARS, within_business_years

END_BEFORE_START = "L'heure de fin doit être après l'heure de début."


class AvailabilityError(DomainError):
    """A weekly rule, exception or time off refused; the message is for the form."""


def overlapping_rule(rule):
    """Another weekly rule of the same tutor whose hours overlap `rule`'s on its weekday, or None."""
    # The rule being saved is in the session already: it must not reach the database before the check.
    with db.session.no_autoflush:
        # A rule given its tutor through the relationship (the office's form) has no tutor_id until flushed.
        tutor_id = rule.tutor.id if rule.tutor is not None else rule.tutor_id
        query = select(WeeklyRule).where(
            WeeklyRule.tutor_id == tutor_id,
            WeeklyRule.weekday == rule.weekday,
            WeeklyRule.start_time < rule.end_time,
            rule.start_time < WeeklyRule.end_time,
        )
        if rule.id is not None:
            query = query.where(WeeklyRule.id != rule.id)
        return db.session.scalars(query.order_by(WeeklyRule.start_time).limit(1)).first()


def check_weekly_rule(rule):
    """Refuse hours that end before they start, or that overlap another rule of the tutor that day."""
    if rule.end_time <= rule.start_time:
        raise AvailabilityError(END_BEFORE_START)
    other = overlapping_rule(rule)
    if other is None:
        return
    if (other.start_time, other.end_time) == (rule.start_time, rule.end_time):
        raise AvailabilityError(f"Cette plage existe déjà : {other}.")
    raise AvailabilityError(
        f"Cette plage chevauche la plage {other} de ce tuteur. Modifiez celle-ci ou choisissez "
        "d'autres heures (des plages qui se suivent, comme 9 h–12 h et 12 h–15 h, sont permises)."
    )


def check_exception(exception):
    """Refuse a date outside the business years and hours that are half given, missing or reversed."""
    if not within_business_years(exception.date):
        raise AvailabilityError(OUTSIDE_BUSINESS_YEARS)
    if (exception.start_time is None) != (exception.end_time is None):
        raise AvailabilityError("Indiquez l'heure de début et l'heure de fin, ou aucune des deux.")
    if exception.kind == ExceptionKind.OPEN and exception.start_time is None:
        raise AvailabilityError("Une ouverture exceptionnelle demande des heures.")
    if exception.start_time is not None and exception.end_time <= exception.start_time:
        raise AvailabilityError(END_BEFORE_START)


def check_time_off(time_off):
    """Refuse time off outside the business years, or ending before it starts."""
    if not (within_business_years(time_off.starts_at) and within_business_years(time_off.ends_at)):
        raise AvailabilityError(OUTSIDE_BUSINESS_YEARS)
    if time_off.ends_at <= time_off.starts_at:
        raise AvailabilityError("La fin du congé doit suivre son début.")


# --- telling others ----------------------------------------------------------------------------

#: How a change reads, by what changed and how (plage and exception are feminine, congé masculine).
_VERBS = {
    "created": ("ajoutée", "ajouté"),
    "updated": ("modifiée", "modifié"),
    "deleted": ("supprimée", "supprimé"),
}


def describe_change(row, action):
    """One French line about a weekly rule, exception or time off `action` ("created", "updated", "deleted")."""
    feminine, masculine = _VERBS[action]
    if isinstance(row, WeeklyRule):
        return f"Plage hebdomadaire {feminine} : {row}"
    if isinstance(row, AvailabilityException):
        hours = f" {row.start_time:%H:%M}–{row.end_time:%H:%M}" if row.start_time is not None else ""
        label = EXCEPTION_KIND_LABELS.get(row.kind, row.kind)
        return f"Exception {feminine} : {local_date(row.date)}, {label}{hours}"
    return f"Congé {masculine} : du {local_datetime(row.starts_at)} au {local_datetime(row.ends_at)}"


def announce_change(tutor, change, now):
    """Queue `tutor.availability.updated` with `change` (a French line); the caller commits.

    One event per tutor and minute: the changes made meanwhile (several rows saved or deleted in a
    row) join the event while it waits to be sent, instead of one message each.
    """
    key = f"tutor.availability.updated:tutor:{tutor.id}:{now:%Y%m%dT%H%MZ}"
    event = outbox.emit(
        OutboxEventType.TUTOR_AVAILABILITY_UPDATED, events.tutor_availability_updated(tutor, [change]), key, now
    )
    if event is not None:
        return event
    waiting = db.session.scalar(
        select(OutboxEvent)
        .where(
            OutboxEvent.dedupe_key == key,
            OutboxEvent.status == OutboxStatus.PENDING.value,
            OutboxEvent.claim_token.is_(None),
        )
        .with_for_update()
    )
    if waiting is None:
        # This minute's event is already on its way: this change gets its own.
        return outbox.emit(
            OutboxEventType.TUTOR_AVAILABILITY_UPDATED,
            events.tutor_availability_updated(tutor, [change]),
            f"{key}:{now:%S%f}",
            now,
        )
    payload = dict(waiting.payload)
    payload["changes"] = [*payload.get("changes", []), change]
    waiting.payload = payload
    return waiting

"""Moving a booked session to another free slot of its course and duration (SPEC §8; by its tutor, §10).

The new time is taken (its cells, then the row under the database's overlap guard) before the old
time is released, in one transaction: a session is never without its time, never in two places.
The tutor may change, by priority; price and payment stay; the tutor's earnings follow the session.
"""

import calendar as _calendar
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import events, outbox
from .appointments import NOT_UPCOMING, AppointmentError
from .calendars import UnknownTutor, bookable_tutors, load_calendars
from .extensions import db
from .formatting import local_datetime
from .localtime import LOCAL_TZ, local_day_bounds
from .models import Appointment, AppointmentChange, AppointmentStatus, ChangeKind, OutboxEventType, Tutor
from .models.dates import OUTSIDE_BUSINESS_YEARS, within_business_years
from .occupancy import SLOT_TAKEN, SlotTaken, occupy, release_appointment_outside
from .pricing import tutor_earnings
from .slots import BookingRules, course_slots

SAME_TIME = "La séance est déjà à cette heure : choisissez un autre créneau."
STUDENT_BUSY = "Vous avez déjà une autre séance à ce moment."
NOT_YOURS = "Cette séance n'est pas la vôtre."
REASON_REQUIRED = "Indiquez le motif du déplacement."
REASON_MAX_LENGTH = 1000


def move_deadline(appointment, notice_hours):
    """The last instant a student may move the session online."""
    return appointment.starts_at - timedelta(hours=notice_hours)


def student_can_move(appointment, now, notice_hours):
    return appointment.is_upcoming(now) and now <= move_deadline(appointment, notice_hours)


def check_student_can_move(appointment, student, now, notice_hours):
    """Refuse, with the reason and the time limit, a move the student may not make online."""
    if appointment.student_id != student.id:
        raise AppointmentError(NOT_YOURS)
    _check_notice(appointment, now, notice_hours)


def check_tutor_can_move(appointment, tutor, now, notice_hours):
    """A tutor moves their own sessions under the student's rule: still to come, `notice_hours` ahead at least."""
    if tutor is None or appointment.tutor_id != tutor.id:
        raise AppointmentError(NOT_YOURS)
    _check_notice(appointment, now, notice_hours)


def _check_notice(appointment, now, notice_hours):
    """The one notice rule of a move made online, by its student or its tutor."""
    if not appointment.is_upcoming(now):
        raise AppointmentError("Seule une séance à venir peut être déplacée.")
    deadline = move_deadline(appointment, notice_hours)
    if now > deadline:
        raise AppointmentError(
            f"Trop tard pour déplacer en ligne : une séance se déplace au plus tard {notice_hours} h avant son début "
            f"(jusqu'au {local_datetime(deadline)}). Communiquez avec 4AS."
        )


def _student_busy(appointment, range_start, range_end):
    """The student's other sessions between two instants, as (start, end): they cannot be in two places."""
    rows = db.session.execute(
        select(Appointment.starts_at, Appointment.ends_at).where(
            Appointment.student_id == appointment.student_id,
            Appointment.id != appointment.id,
            Appointment.occupying(),
            Appointment.starts_at < range_end,
            Appointment.ends_at > range_start,
        )
    )
    return [(row.starts_at, row.ends_at) for row in rows]


def _free_for_student(slot, busy):
    return not any(start < slot.ends_at and slot.starts_at < end for start, end in busy)


def _tutors(appointment, tutor_allowed):
    try:
        return bookable_tutors(appointment.course_id, tutor_allowed)
    except UnknownTutor as exc:
        raise AppointmentError(str(exc)) from exc


def _slots_by_day(appointment, first_day, last_day, now, rules, tutor_allowed=None):
    """{local date: [slots]} the session could move to, in a fixed number of queries."""
    calendars = load_calendars(
        _tutors(appointment, tutor_allowed), first_day, last_day, now, except_appointment_id=appointment.id
    )
    busy = _student_busy(appointment, local_day_bounds(first_day)[0], local_day_bounds(last_day)[1])
    window = rules.window(now)
    result = {}
    day = first_day
    while day <= last_day:
        result[day] = [
            slot
            for slot in course_slots(calendars, day, appointment.duration_minutes, window)
            if slot.starts_at != appointment.starts_at and _free_for_student(slot, busy)
        ]
        day += timedelta(days=1)
    return result


def slots_between(appointment, first_day, last_day, now, rules, tutor_allowed=None):
    """{local date: [slots]} of the dates between two local dates (inclusive) with a slot to move to."""
    slots = _slots_by_day(appointment, first_day, last_day, now, rules, tutor_allowed)
    return {day: found for day, found in slots.items() if found}


def day_slots(appointment, day, now, rules, tutor_allowed=None):
    """The slots of a local date the session may move to, one per start time."""
    return _slots_by_day(appointment, day, day, now, rules, tutor_allowed)[day]


def month_days(appointment, month, now, rules, tutor_allowed=None):
    """The dates of `month` (any date in it) with at least one slot to move to."""
    first = month.replace(day=1)
    last = first.replace(day=_calendar.monthrange(first.year, first.month)[1])
    return [day for day, slots in _slots_by_day(appointment, first, last, now, rules, tutor_allowed).items() if slots]


def opening_month(appointment, now, rules):
    """The month the move calendar opens on (the next one when the first has nothing left), with its days."""
    first_day, last_day = rules.window(now).local_days()
    month = date(first_day.year, first_day.month, 1)
    days = month_days(appointment, month, now, rules)
    following = (month + timedelta(days=31)).replace(day=1)
    if not days and following <= last_day:
        return following, month_days(appointment, following, now, rules)
    return month, days


def _find_slot(appointment, new_starts_at, now, rules, tutor_allowed):
    day = new_starts_at.astimezone(LOCAL_TZ).date()
    for slot in _slots_by_day(appointment, day, day, now, rules, tutor_allowed)[day]:
        if slot.starts_at == new_starts_at:
            return slot
    return None


def _take_new_time(appointment, tutor_id, starts_at, ends_at):
    """Occupy the cells of the new range that the session does not own yet, move the row, free the rest.

    Raises SlotTaken with nothing changed when another session or hold has any part of the new time.
    """
    old_start, old_end = appointment.starts_at, appointment.ends_at
    if tutor_id == appointment.tutor_id and starts_at < old_end and old_start < ends_at:
        # Same tutor, overlapping times (same length): the session already owns part of the new range.
        fresh = (starts_at, old_start) if starts_at < old_start else (old_end, ends_at)
    else:
        fresh = (starts_at, ends_at)
    try:
        with db.session.begin_nested():
            occupy(tutor_id, *fresh, appointment_id=appointment.id)
            appointment.tutor_id, appointment.starts_at, appointment.ends_at = tutor_id, starts_at, ends_at
            db.session.flush()  # the overlap guard (exclusion constraint, SQLite triggers) checks the new time
            release_appointment_outside(appointment.id, tutor_id, starts_at, ends_at)
    except IntegrityError as exc:
        raise SlotTaken() from exc


def move(appointment, new_starts_at, actor, now, reason=None, tutor_allowed=None, rules=None):
    """Move a session still to come to `new_starts_at`, or raise AppointmentError / SlotTaken.

    `tutor_allowed`: the only tutor it may go to (None: the course's free tutor with the best priority).
    `rules`: the booking window the new time must fall in. Returns the history line written.
    """
    rules = rules or BookingRules()
    # Under the row lock: a cancellation or another move of this session waits, then is seen.
    appointment = db.session.get(Appointment, appointment.id, with_for_update=True, populate_existing=True)
    if appointment.status != AppointmentStatus.SCHEDULED or appointment.starts_at <= now:
        raise AppointmentError(NOT_UPCOMING)
    if not within_business_years(new_starts_at):
        raise AppointmentError(OUTSIDE_BUSINESS_YEARS)
    if new_starts_at == appointment.starts_at:
        raise AppointmentError(SAME_TIME)
    slot = _find_slot(appointment, new_starts_at, now, rules, tutor_allowed)
    if slot is None:
        ends_at = new_starts_at + timedelta(minutes=appointment.duration_minutes)
        if _student_busy(appointment, new_starts_at, ends_at):
            raise AppointmentError(STUDENT_BUSY)
        raise SlotTaken(SLOT_TAKEN)
    previous_starts_at, previous_tutor_id = appointment.starts_at, appointment.tutor_id
    _take_new_time(appointment, slot.tutor_id, slot.starts_at, slot.ends_at)
    tutor_changed = slot.tutor_id != previous_tutor_id
    if tutor_changed:
        _follow_new_tutor(appointment)
    appointment.reminder_sent_at = None  # the reminder goes out again before the new time
    change = AppointmentChange(
        appointment_id=appointment.id,
        actor_id=getattr(actor, "id", None),
        kind=ChangeKind.RESCHEDULED.value,
        previous_starts_at=previous_starts_at,
        new_starts_at=appointment.starts_at,
        previous_tutor_id=previous_tutor_id if tutor_changed else None,
        reason=(reason or "").strip(),
        created_at=now,
    )
    db.session.add(change)
    db.session.flush()
    outbox.emit(
        OutboxEventType.BOOKING_RESCHEDULED,
        events.booking_rescheduled(appointment, previous_starts_at, actor),
        f"booking.rescheduled:change:{change.id}",
        now,
        ordering_key=f"student:{appointment.student_id}",
    )
    return change


def _follow_new_tutor(appointment):
    """The new tutor teaches it: the order item's tutor and earnings are theirs; the old meeting link goes."""
    db.session.expire(appointment, ["tutor"])
    item = appointment.order_item
    if item is not None:
        tutor = db.session.get(Tutor, appointment.tutor_id)
        item.tutor = tutor
        item.tutor_earnings_cents = tutor_earnings(tutor, appointment.duration_minutes)
    if appointment.meeting_link is not None:
        # The link was the previous tutor's meeting room.
        appointment.meeting_link = None


def student_move(appointment, student, new_starts_at, now, notice_hours, rules):
    """A student's own move, up to `notice_hours` before the start; returns the history line."""
    appointment = db.session.get(Appointment, appointment.id, with_for_update=True, populate_existing=True)
    check_student_can_move(appointment, student, now, notice_hours)
    return move(appointment, new_starts_at, student, now, reason="Déplacée par l'étudiant", rules=rules)


def tutor_move(appointment, tutor_user, new_starts_at, reason, now, notice_hours, rules):
    """A tutor's move of their own session to another of their free slots, with a reason; returns the history line."""
    appointment = db.session.get(Appointment, appointment.id, with_for_update=True, populate_existing=True)
    tutor = tutor_user.tutor_profile
    check_tutor_can_move(appointment, tutor, now, notice_hours)
    reason = (reason or "").strip()
    if not reason:
        raise AppointmentError(REASON_REQUIRED)
    if len(reason) > REASON_MAX_LENGTH:
        raise AppointmentError(f"Le motif dépasse {REASON_MAX_LENGTH} caractères.")
    return move(appointment, new_starts_at, tutor_user, now, reason=reason, tutor_allowed=tutor.id, rules=rules)

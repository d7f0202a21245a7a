"""Loads tutors' calendars for the slot engine: a fixed number of queries for any period."""

from collections import defaultdict
from datetime import timedelta

from sqlalchemy import and_, select, true

from .errors import DomainError
from .extensions import db
from .localtime import local_day_bounds
from .models import (
    SESSION_DURATIONS,
    Appointment,
    AvailabilityException,
    ExceptionKind,
    Hold,
    TimeOff,
    Tutor,
    TutorCourse,
    WeeklyRule,
)
from .slots import TutorCalendar

UNKNOWN_TUTOR = "Ce tuteur n'enseigne pas ce cours."


class UnknownTutor(DomainError):
    """The tutor asked for does not teach this course, or no longer teaches."""


def course_tutors(course_id, tutor_id=None):
    """Active tutors assigned to a course, best priority first (optionally only one of them)."""
    query = (
        select(Tutor)
        .join(TutorCourse, TutorCourse.tutor_id == Tutor.id)
        .where(TutorCourse.course_id == course_id, Tutor.active.is_(True))
        .order_by(Tutor.priority, Tutor.id)
    )
    if tutor_id is not None:
        query = query.where(Tutor.id == tutor_id)
    return db.session.scalars(query).all()


def bookable_tutors(course_id, tutor_id=None):
    """The tutors a session of the course may go to: all its tutors, or the one asked for, or UnknownTutor."""
    tutors = course_tutors(course_id, tutor_id)
    if tutor_id is not None and not tutors:
        raise UnknownTutor(UNKNOWN_TUTOR)
    return tutors


def load_calendars(tutors, first_day, last_day, now, except_appointment_id=None):
    """Calendars of `tutors` between two local dates (inclusive): six queries in all.

    `except_appointment_id`: a session being moved, whose own time does not count as taken.
    """
    if not tutors:
        return []
    ids = [t.id for t in tutors]
    range_start = local_day_bounds(first_day)[0]
    range_end = local_day_bounds(last_day)[1]
    rules = defaultdict(lambda: defaultdict(list))
    openings = defaultdict(lambda: defaultdict(list))
    closures = defaultdict(lambda: defaultdict(list))
    busy = defaultdict(list)

    for rule in db.session.execute(
        select(WeeklyRule.tutor_id, WeeklyRule.weekday, WeeklyRule.start_time, WeeklyRule.end_time).where(
            WeeklyRule.tutor_id.in_(ids)
        )
    ):
        rules[rule.tutor_id][rule.weekday].append((rule.start_time, rule.end_time))

    for exc in db.session.execute(
        select(
            AvailabilityException.tutor_id,
            AvailabilityException.date,
            AvailabilityException.kind,
            AvailabilityException.start_time,
            AvailabilityException.end_time,
        ).where(
            AvailabilityException.tutor_id.in_(ids),
            AvailabilityException.date.between(first_day, last_day),
        )
    ):
        target = openings if exc.kind == ExceptionKind.OPEN else closures
        target[exc.tutor_id][exc.date].append((exc.start_time, exc.end_time))

    # Sessions last at most two hours, so a lower bound on their start keeps the
    # (tutor, start) index scan to the period; time off can be any length.
    session_lookback = range_start - timedelta(minutes=max(SESSION_DURATIONS))
    other_sessions = true() if except_appointment_id is None else Appointment.id != except_appointment_id
    for model, condition in (
        (TimeOff, true()),
        (Appointment, and_(Appointment.occupying(), Appointment.starts_at > session_lookback, other_sessions)),
        (Hold, and_(Hold.active_at(now), Hold.starts_at > session_lookback)),
    ):
        rows = db.session.execute(
            select(model.tutor_id, model.starts_at, model.ends_at).where(
                model.tutor_id.in_(ids),
                model.starts_at < range_end,
                model.ends_at > range_start,
                condition,
            )
        )
        for row in rows:
            busy[row.tutor_id].append((row.starts_at, row.ends_at))

    return [
        TutorCalendar(
            tutor_id=t.id,
            priority=t.priority,
            rules=dict(rules[t.id]),
            openings=dict(openings[t.id]),
            closures=dict(closures[t.id]),
            busy=busy[t.id],
        )
        for t in tutors
    ]

"""Loads tutors' calendars for the slot engine: one query for any number of tutors and any period."""

from collections import defaultdict
from datetime import timedelta
from functools import cache

from sqlalchemy import Date, Integer, String, Time, bindparam, cast, func, literal_column, null, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY

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
from .models.types import UTCDateTime
from .slots import TutorCalendar

UNKNOWN_TUTOR = "Ce tuteur n'enseigne pas ce cours."
#: Who gets a slot several tutors could teach: the best (lowest) priority, then the lowest id.
TUTOR_ORDER = (Tutor.priority, Tutor.id)

# The `kind` of a calendar row that is neither an exception ("open", "closed") nor a weekly rule.
_RULE = "rule"
_BUSY = "busy"


class UnknownTutor(DomainError):
    """The tutor asked for does not teach this course, or no longer teaches."""


def course_tutors(course_id, tutor_id=None):
    """Active tutors assigned to a course, best priority first (optionally only one of them)."""
    query = (
        select(Tutor)
        .join(TutorCourse, TutorCourse.tutor_id == Tutor.id)
        .where(TutorCourse.course_id == course_id, Tutor.active.is_(True))
        .order_by(*TUTOR_ORDER)
    )
    if tutor_id is not None:
        query = query.where(Tutor.id == tutor_id)
    return db.session.scalars(query).all()


def pick_tutors(tutors, tutor_id=None):
    """All of a course's `tutors`, or only the one asked for, or UnknownTutor."""
    if tutor_id is None:
        return list(tutors)
    chosen = [t for t in tutors if t.id == tutor_id]
    if not chosen:
        raise UnknownTutor(UNKNOWN_TUTOR)
    return chosen


def bookable_tutors(course_id, tutor_id=None):
    """The tutors a session of the course may go to: all its tutors, or the one asked for, or UnknownTutor."""
    return pick_tutors(course_tutors(course_id, tutor_id), tutor_id)


def _nothing(type_):
    # Typed, so that PostgreSQL can match the branches of the UNION and results are read with the right type.
    return cast(null(), type_)


def _among(column, name, dialect_name):
    """`column` is one of the list given as parameter `name`.

    On PostgreSQL one array parameter (`= ANY`): the statement's text is the same whatever the list's
    length, so the server keeps one prepared statement for it. SQLite has no arrays: an expanding IN.
    """
    if dialect_name == "postgresql":
        return column == func.any(bindparam(name, type_=ARRAY(Integer)))
    return column.in_(bindparam(name, expanding=True))


def _busy_rows(model, dialect_name, *conditions):
    return select(
        literal_column(f"'{_BUSY}'", String),
        model.tutor_id,
        _nothing(Integer),
        _nothing(Date),
        _nothing(Time),
        _nothing(Time),
        model.starts_at,
        model.ends_at,
    ).where(
        _among(model.tutor_id, "tutor_ids", dialect_name),
        model.starts_at < bindparam("range_end", type_=UTCDateTime),
        model.ends_at > bindparam("range_start", type_=UTCDateTime),
        *conditions,
    )


@cache
def _calendar_statement(dialect_name):
    """Weekly rules, exceptions and busy ranges (time off, sessions, active holds) of some tutors, as one UNION ALL.

    Built once per database kind: every call sends the same statement with other values, so SQLAlchemy
    reuses its compiled form. Only the rules of the weekdays the period covers are read.
    """
    # Sessions last at most two hours, so a lower bound on their start keeps the
    # (tutor, start) index scan to the period; time off can be any length.
    lookback = bindparam("session_lookback", type_=UTCDateTime)
    # The first branch names the columns and gives their types.
    rules = select(
        literal_column(f"'{_RULE}'", String).label("kind"),
        WeeklyRule.tutor_id,
        WeeklyRule.weekday,
        _nothing(Date).label("date"),
        WeeklyRule.start_time,
        WeeklyRule.end_time,
        _nothing(UTCDateTime).label("starts_at"),
        _nothing(UTCDateTime).label("ends_at"),
    ).where(
        _among(WeeklyRule.tutor_id, "tutor_ids", dialect_name),
        _among(WeeklyRule.weekday, "weekdays", dialect_name),
    )
    exceptions = select(
        AvailabilityException.kind,
        AvailabilityException.tutor_id,
        _nothing(Integer),
        AvailabilityException.date,
        AvailabilityException.start_time,
        AvailabilityException.end_time,
        _nothing(UTCDateTime),
        _nothing(UTCDateTime),
    ).where(
        _among(AvailabilityException.tutor_id, "tutor_ids", dialect_name),
        AvailabilityException.date.between(bindparam("first_day", type_=Date), bindparam("last_day", type_=Date)),
    )
    return union_all(
        rules,
        exceptions,
        _busy_rows(TimeOff, dialect_name),
        _busy_rows(
            Appointment,
            dialect_name,
            Appointment.occupying(),
            Appointment.starts_at > lookback,
            # A session being moved does not take its own time (0: no session is being moved).
            Appointment.id != bindparam("moved_appointment_id", type_=Integer),
        ),
        _busy_rows(Hold, dialect_name, Hold.active_at(bindparam("now", type_=UTCDateTime)), Hold.starts_at > lookback),
    )


def load_calendars(tutors, first_day, last_day, now, except_appointment_id=None):
    """Calendars of `tutors` between two local dates (inclusive), in one query.

    `except_appointment_id`: a session being moved, whose own time does not count as taken.
    """
    if not tutors:
        return []
    range_start = local_day_bounds(first_day)[0]
    range_end = local_day_bounds(last_day)[1]
    rules = defaultdict(lambda: defaultdict(list))
    openings = defaultdict(lambda: defaultdict(list))
    closures = defaultdict(lambda: defaultdict(list))
    busy = defaultdict(list)
    weekdays = sorted(
        {(first_day + timedelta(days=i)).weekday() for i in range(min(7, (last_day - first_day).days + 1))}
    )
    rows = db.session.execute(
        _calendar_statement(db.session.get_bind().dialect.name),
        {
            "tutor_ids": [t.id for t in tutors],
            "weekdays": weekdays,
            "first_day": first_day,
            "last_day": last_day,
            "range_start": range_start,
            "range_end": range_end,
            "session_lookback": range_start - timedelta(minutes=max(SESSION_DURATIONS)),
            "moved_appointment_id": except_appointment_id or 0,
            "now": now,
        },
    ).all()  # fetched at once: row by row costs psycopg a call per row
    for kind, tutor_id, weekday, day, start_time, end_time, starts_at, ends_at in rows:
        if kind == _BUSY:
            busy[tutor_id].append((starts_at, ends_at))
        elif kind == _RULE:
            rules[tutor_id][weekday].append((start_time, end_time))
        elif kind == ExceptionKind.OPEN:
            openings[tutor_id][day].append((start_time, end_time))
        else:
            closures[tutor_id][day].append((start_time, end_time))

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

"""The tutor's home: the day's and the week's sessions, the month's figures, marks to give, ratings.

A fixed number of queries whatever the number of sessions: the sessions of the coming days in one,
their unread messages in one, the months' totals in one, the sessions to mark in one, the ratings in two.
"""

from dataclasses import dataclass
from datetime import time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from . import attendance, earnings, messaging, ratings
from .extensions import db
from .localtime import add_months, local_instant, local_today, month_of
from .models import Appointment, AppointmentStatus, Course, Rating

#: The days after today the home lists.
WEEK_DAYS = 7
#: The latest rating comments shown.
LATEST_COMMENTS = 5


@dataclass(frozen=True)
class SessionLine:
    """A session on the home: what the tutor needs to teach it, and the student's unread messages."""

    appointment: Appointment
    unread: int
    upcoming: bool


@dataclass(frozen=True)
class MonthFigures:
    """Hours and earnings of the tutor's marked sessions in one local month."""

    month: object
    minutes: int
    earnings_cents: int


@dataclass(frozen=True)
class Comment:
    """A student's comment on a session, without the student's name."""

    score: int
    comment: str
    day: object
    course_title: str


@dataclass(frozen=True)
class RatingSummary:
    average: Decimal | None
    count: int
    comments: list


@dataclass(frozen=True)
class Home:
    day: object
    today: list
    days: list
    months: list
    awaiting: list
    rating: RatingSummary


def _sessions(tutor_id, begins, ends):
    """The tutor's sessions not cancelled starting in [begins, ends), with their course, student and link."""
    return db.session.scalars(
        select(Appointment)
        .where(
            Appointment.tutor_id == tutor_id,
            Appointment.status != AppointmentStatus.CANCELLED.value,
            Appointment.starts_at >= begins,
            Appointment.starts_at < ends,
        )
        .options(joinedload(Appointment.course), joinedload(Appointment.student), joinedload(Appointment.meeting_link))
        .order_by(Appointment.starts_at, Appointment.id)
    ).all()


def coming_sessions(tutor_id, user, now):
    """(today's lines, [(day, lines)] for each of the next WEEK_DAYS days having sessions), in local days."""
    today = local_today(now)
    begins = local_instant(today, time(0))
    tomorrow = local_instant(today + timedelta(days=1), time(0))
    ends = local_instant(today + timedelta(days=WEEK_DAYS + 1), time(0))
    appointments = _sessions(tutor_id, begins, ends)
    unread = messaging.unread_counts(user, [a.id for a in appointments])
    today_lines, days = [], {}
    for appointment in appointments:
        line = SessionLine(appointment, unread.get(appointment.id, 0), appointment.is_upcoming(now))
        if appointment.starts_at < tomorrow:
            today_lines.append(line)
        else:
            days.setdefault(local_today(appointment.starts_at), []).append(line)
    return today_lines, sorted(days.items())


def month_figures(tutor_id, now):
    """[this month, last month] as MonthFigures (the earnings rule is earnings.month_totals')."""
    this_month = month_of(now)
    last_month = add_months(this_month, -1)
    totals = earnings.month_totals([tutor_id], [last_month, this_month])
    return [MonthFigures(month, *totals.get((tutor_id, month), (0, 0))) for month in (this_month, last_month)]


def rating_summary(tutor_id, limit=LATEST_COMMENTS):
    """The average score (one decimal) and count of the tutor's ratings, and the latest comments not hidden."""
    of_tutor = Rating.appointment_id.in_(select(Appointment.id).where(Appointment.tutor_id == tutor_id))
    total, count = db.session.execute(select(func.sum(Rating.score), func.count(Rating.id)).where(of_tutor)).one()
    average = (Decimal(total) / count).quantize(Decimal("0.1"), ROUND_HALF_UP) if count else None
    rows = db.session.execute(
        select(Rating.score, Rating.comment, Rating.created_at, Course.title)
        .join(Appointment, Appointment.id == Rating.appointment_id)
        .join(Course, Course.id == Appointment.course_id)
        .where(Appointment.tutor_id == tutor_id, Rating.comment != "", ratings.comment_shown())
        .order_by(Rating.created_at.desc(), Rating.id.desc())
        .limit(limit)
    ).all()
    comments = [Comment(score, text, local_today(at), title) for score, text, at, title in rows]
    return RatingSummary(average, count, comments)


def home(tutor, user, now):
    """Everything the tutor's home shows, for the tutor profile `tutor` of the account `user`."""
    today, days = coming_sessions(tutor.id, user, now)
    return Home(
        day=local_today(now),
        today=today,
        days=days,
        months=month_figures(tutor.id, now),
        awaiting=attendance.awaiting_mark(tutor.id, now),
        rating=rating_summary(tutor.id),
    )

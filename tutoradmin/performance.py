"""Tutor performance and course activity for one local month (SPEC §9, operations), as SQL aggregates.

Definitions:

- sessions and booked hours: the tutor's sessions starting in the month, not cancelled (scheduled or
  completed, whatever their attendance mark);
- offered hours: the tutor's availability in the month — weekly rules plus open exceptions, minus
  closed exceptions and time off — expanded day by day with the slot engine's own rule
  (`slots.free_intervals`), booked sessions not taken out;
- utilisation = booked hours ÷ offered hours (none without offered hours; above 100 % when the office
  booked sessions outside the tutor's hours);
- no-shows and late cancellations: attendance marks of those sessions;
- rating average: ratings of those sessions, hidden comments' scores included;
- course activity: sessions of the course starting in the month (not cancelled), distinct students
  among them, and revenue with reports.py's definitions for the month (collected by payment date,
  refunded by refund date, net), as the revenue page shows it.

A fixed number of statements whatever the number of tutors, courses and sessions.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import and_, case, func, select

from . import ratings, reports
from .extensions import db
from .localtime import month_bounds, next_month
from .models import (
    Appointment,
    Attendance,
    AvailabilityException,
    Course,
    ExceptionKind,
    Rating,
    TimeOff,
    Tutor,
    WeeklyRule,
)
from .slots import TutorCalendar, free_intervals


@dataclass(frozen=True)
class TutorPerformance:
    """One tutor's month."""

    tutor: Tutor
    sessions: int
    booked_minutes: int
    offered_minutes: int
    no_shows: int
    late_cancels: int
    rating_count: int
    rating_average: Decimal | None

    @property
    def utilisation(self):
        """Booked ÷ offered hours (0.75 for 75 %), None without offered hours."""
        if not self.offered_minutes:
            return None
        return Decimal(self.booked_minutes) / Decimal(self.offered_minutes)


@dataclass(frozen=True)
class CourseActivity:
    """One course's month (course None: revenue no session accounts for)."""

    course_id: int | None
    title: str
    sessions: int
    students: int
    figures: reports.Figures


def _month_sessions(start):
    """SQL condition: sessions starting in the local month beginning on `start`, not cancelled."""
    begins, ends = month_bounds(start)
    return and_(Appointment.starts_at >= begins, Appointment.starts_at < ends, Appointment.occupying())


def _count_if(condition):
    return func.sum(case((condition, 1), else_=0))


def offered_minutes(tutor_ids, start):
    """{tutor id: minutes of availability} in the local month beginning on `start`: three statements."""
    if not tutor_ids:
        return {}
    first, last = start, next_month(start) - timedelta(days=1)
    begins, ends = month_bounds(start)
    calendars = {i: TutorCalendar(tutor_id=i, priority=0) for i in tutor_ids}
    for row in db.session.execute(
        select(WeeklyRule.tutor_id, WeeklyRule.weekday, WeeklyRule.start_time, WeeklyRule.end_time).where(
            WeeklyRule.tutor_id.in_(tutor_ids)
        )
    ):
        calendars[row.tutor_id].rules.setdefault(row.weekday, []).append((row.start_time, row.end_time))
    for row in db.session.execute(
        select(
            AvailabilityException.tutor_id,
            AvailabilityException.date,
            AvailabilityException.kind,
            AvailabilityException.start_time,
            AvailabilityException.end_time,
        ).where(AvailabilityException.tutor_id.in_(tutor_ids), AvailabilityException.date.between(first, last))
    ):
        calendar = calendars[row.tutor_id]
        target = calendar.openings if row.kind == ExceptionKind.OPEN else calendar.closures
        target.setdefault(row.date, []).append((row.start_time, row.end_time))
    time_off = defaultdict(list)
    for row in db.session.execute(
        select(TimeOff.tutor_id, TimeOff.starts_at, TimeOff.ends_at).where(
            TimeOff.tutor_id.in_(tutor_ids), TimeOff.starts_at < ends, TimeOff.ends_at > begins
        )
    ):
        time_off[row.tutor_id].append((row.starts_at, row.ends_at))
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    minutes = {}
    for tutor_id, calendar in calendars.items():
        # Time off is the only busy time: booked sessions are part of what was offered.
        calendar = TutorCalendar(
            tutor_id, 0, calendar.rules, calendar.openings, calendar.closures, busy=time_off[tutor_id]
        )
        seconds = sum((end - begin).total_seconds() for day in days for begin, end in free_intervals(calendar, day))
        minutes[tutor_id] = int(seconds // 60)
    return minutes


def tutor_month(start):
    """Every tutor active or with sessions in the month, by name, as TutorPerformance: five statements."""
    in_month = _month_sessions(start)
    rows = db.session.execute(
        select(
            Tutor,
            func.count(Appointment.id),
            func.coalesce(func.sum(Appointment.duration_minutes), 0),
            _count_if(Appointment.attendance == Attendance.NO_SHOW.value),
            _count_if(Appointment.attendance == Attendance.LATE_CANCEL.value),
            func.count(Rating.id),
            func.sum(Rating.score),
        )
        .outerjoin(Appointment, and_(Appointment.tutor_id == Tutor.id, in_month))
        .outerjoin(Rating, Rating.appointment_id == Appointment.id)
        .group_by(Tutor.id)
        .order_by(Tutor.display_name, Tutor.id)
    ).all()
    rows = [row for row in rows if row[0].active or row[1]]
    offered = offered_minutes([row[0].id for row in rows], start)
    return [
        TutorPerformance(
            tutor=tutor,
            sessions=sessions,
            booked_minutes=int(booked),
            offered_minutes=offered[tutor.id],
            no_shows=int(no_shows or 0),
            late_cancels=int(late_cancels or 0),
            rating_count=rating_count,
            rating_average=ratings.average(score_total, rating_count),
        )
        for tutor, sessions, booked, no_shows, late_cancels, rating_count, score_total in rows
    ]


def course_month(start):
    """Every course active or with sessions or revenue in the month, by title, as CourseActivity: two reports."""
    rows = db.session.execute(
        select(
            Course.id,
            Course.title,
            Course.active,
            func.count(Appointment.id),
            func.count(func.distinct(Appointment.student_id)),
        )
        .outerjoin(Appointment, and_(Appointment.course_id == Course.id, _month_sessions(start)))
        .group_by(Course.id, Course.title, Course.active)
        .order_by(Course.title, Course.id)
    ).all()
    report = reports.revenue_report(start, next_month(start) - timedelta(days=1))
    revenue = {share.id: share.figures for share in report.by_course}
    lines = [
        CourseActivity(course_id, title, sessions, students, revenue.get(course_id, reports.Figures()))
        for course_id, title, active, sessions, students in rows
        if active or sessions or course_id in revenue
    ]
    if None in revenue:
        lines.append(CourseActivity(None, reports.UNATTRIBUTED, 0, 0, revenue[None]))
    return lines, report.total

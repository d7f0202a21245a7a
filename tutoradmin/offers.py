"""What students can book: the active courses, a course's slots for a day and its bookable days in a month."""

import calendar as _calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import and_, bindparam, select

from .calendars import TUTOR_ORDER, bookable_tutors, load_calendars, pick_tutors
from .errors import DomainError
from .extensions import db
from .localtime import LOCAL_TZ, local_day_bounds
from .models import Course, Tutor, TutorCourse
from .slots import course_slots, days_with_slots, tutor_slots

UNKNOWN_COURSE = "Cours introuvable."


class UnknownCourse(DomainError):
    """No active course has the slug asked for."""


@dataclass(frozen=True)
class OfferedTutor:
    """What booking needs of a tutor: who, in which order slots go to them, and the name the picker shows."""

    id: int
    priority: int
    display_name: str


@dataclass(frozen=True)
class MonthMap:
    """A month's bookable days, and the instant until which the clock alone cannot change them."""

    days: tuple
    exact_until: datetime


@dataclass(frozen=True)
class Offer:
    """An active course with its active tutors, best priority first."""

    course: Course
    tutors: tuple


def active_course(slug):
    """The active course with this slug, or None."""
    return db.session.scalar(select(Course).where(Course.slug == slug, Course.active.is_(True)))


def bookable_course(slug):
    """The active course with this slug, or UnknownCourse."""
    course = active_course(slug)
    if course is None:
        raise UnknownCourse(UNKNOWN_COURSE)
    return course


@cache
def _offer_statement():
    # Built once (SQLAlchemy reuses its compiled form). An outer join: a course no tutor teaches is still found.
    return (
        select(Course, Tutor.id, Tutor.priority, Tutor.display_name)
        .outerjoin(TutorCourse, TutorCourse.course_id == Course.id)
        .outerjoin(Tutor, and_(Tutor.id == TutorCourse.tutor_id, Tutor.active.is_(True)))
        .where(Course.slug == bindparam("slug"), Course.active.is_(True))
        .order_by(*TUTOR_ORDER)
    )


def course_offer(slug):
    """The active course with this slug and its active tutors, in one query; None without such a course."""
    rows = db.session.execute(_offer_statement(), {"slug": slug}).all()
    if not rows:
        return None
    tutors = tuple(OfferedTutor(tutor_id, priority, name) for _, tutor_id, priority, name in rows if tutor_id)
    return Offer(rows[0][0], tutors)


def bookable_offer(slug):
    """The active course with this slug and its tutors, or UnknownCourse."""
    offer = course_offer(slug)
    if offer is None:
        raise UnknownCourse(UNKNOWN_COURSE)
    return offer


def _tutors(course, tutor_id, tutors):
    # `tutors`: the course's tutors when the caller has them already (an Offer's), else read here.
    return bookable_tutors(course.id, tutor_id) if tutors is None else pick_tutors(tutors, tutor_id)


def _month_range(month):
    first = month.replace(day=1)
    return first, first.replace(day=_calendar.monthrange(first.year, first.month)[1])


def _day_slots(calendars, day, duration, window, tutor_id):
    if tutor_id is None:
        return course_slots(calendars, day, duration, window)
    return tutor_slots(calendars[0], day, duration, window)


def _month_days(calendars, first, last, duration, window):
    days = [first + timedelta(days=i) for i in range(last.day)]
    return days_with_slots(calendars, days, duration, window)


def day_slots(course, day, duration, now, rules, tutor_id=None, tutors=None):
    """The slots of a local date: one per start for the course, or all of a chosen tutor's."""
    calendars = load_calendars(_tutors(course, tutor_id, tutors), day, day, now)
    return _day_slots(calendars, day, duration, rules.window(now), tutor_id)


def month_days(course, month, duration, now, rules, tutor_id=None, tutors=None):
    """The dates of `month` (any date in it) that have at least one slot."""
    first, last = _month_range(month)
    calendars = load_calendars(_tutors(course, tutor_id, tutors), first, last, now)
    return _month_days(calendars, first, last, duration, rules.window(now))


def month_weeks(month):
    """The weeks (Monday first) shown for a month, as lists of dates."""
    return _calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month)


def opening_month(course, duration, now, rules, tutor_id=None, tutors=None):
    """The month the calendar opens on, with its bookable days.

    The month of the earliest bookable day, or the next one when the rest of
    that month has nothing left (e.g. late on the last day of a month).
    """
    return opening_months(rules, now, lambda month: month_days(course, month, duration, now, rules, tutor_id, tutors))


def opening_months(rules, now, days_of):
    """`opening_month` with the bookable days of a month given by `days_of(month)` (cached or not)."""
    first_day, last_day = rules.window(now).local_days()
    month = date(first_day.year, first_day.month, 1)
    days = days_of(month)
    following = (month + timedelta(days=31)).replace(day=1)
    if not days and following <= last_day:
        return following, days_of(following)
    return month, days


def month_and_day(course, month, day, duration, now, rules, tutor_id=None, tutors=None):
    """The booking page's calendar: (month, its bookable days, the slots of `day`), one load of calendars.

    A `day` (None: no slots) shows its own month; without either, the calendar opens on `opening_month`'s.
    """
    if day is not None:
        month = day.replace(day=1)
    if month is None:
        month, days = opening_month(course, duration, now, rules, tutor_id, tutors)
        return month, days, []
    found, slots = month_map_and_day(course, month, day, duration, now, rules, tutor_id, tutors)
    return month, list(found.days), slots


def _month_map(calendars, first, last, duration, window, rules, tutor_id):
    days = _month_days(calendars, first, last, duration, window)
    # As the clock moves, the minimum notice only removes slots of the day it falls on: the map stays
    # right until that day's last slot passes the notice, or the notice reaches the next day.
    boundary = window.earliest.astimezone(LOCAL_TZ).date()
    until = local_day_bounds(boundary)[1]
    if boundary in days:
        until = min(until, _day_slots(calendars, boundary, duration, window, tutor_id)[-1].starts_at)
    return MonthMap(tuple(days), until - timedelta(hours=rules.lead_hours))


def month_map(course, month, duration, now, rules, tutor_id=None, tutors=None):
    """`month_days` of `month` (its first day) with the instant until which they hold (MonthMap)."""
    first, last = _month_range(month)
    calendars = load_calendars(_tutors(course, tutor_id, tutors), first, last, now)
    return _month_map(calendars, first, last, duration, rules.window(now), rules, tutor_id)


def month_map_and_day(course, month, day, duration, now, rules, tutor_id=None, tutors=None):
    """(MonthMap of `month`, the slots of `day` in it or none), from one load of calendars."""
    first, last = _month_range(month)
    calendars = load_calendars(_tutors(course, tutor_id, tutors), first, last, now)
    window = rules.window(now)
    slots = _day_slots(calendars, day, duration, window, tutor_id) if day is not None else []
    return _month_map(calendars, first, last, duration, window, rules, tutor_id), slots

"""What students can book: the active courses, a course's slots for a day and its bookable days in a month."""

import calendar as _calendar
from datetime import date, timedelta

from sqlalchemy import select

from .calendars import bookable_tutors, load_calendars
from .errors import DomainError
from .extensions import db
from .models import Course
from .slots import course_slots, days_with_slots, tutor_slots

UNKNOWN_COURSE = "Cours introuvable."


class UnknownCourse(DomainError):
    """No active course has the slug asked for."""


def active_course(slug):
    """The active course with this slug, or None."""
    return db.session.scalar(select(Course).where(Course.slug == slug, Course.active.is_(True)))


def bookable_course(slug):
    """The active course with this slug, or UnknownCourse."""
    course = active_course(slug)
    if course is None:
        raise UnknownCourse(UNKNOWN_COURSE)
    return course


def day_slots(course, day, duration, now, rules, tutor_id=None):
    """The slots of a local date: one per start for the course, or all of a chosen tutor's."""
    tutors = bookable_tutors(course.id, tutor_id)
    calendars = load_calendars(tutors, day, day, now)
    window = rules.window(now)
    if tutor_id is None:
        return course_slots(calendars, day, duration, window)
    return tutor_slots(calendars[0], day, duration, window)


def month_days(course, month, duration, now, rules, tutor_id=None):
    """The dates of `month` (any date in it) that have at least one slot."""
    first = month.replace(day=1)
    last = first.replace(day=_calendar.monthrange(first.year, first.month)[1])
    tutors = bookable_tutors(course.id, tutor_id)
    calendars = load_calendars(tutors, first, last, now)
    days = [first + timedelta(days=i) for i in range(last.day)]
    return days_with_slots(calendars, days, duration, rules.window(now))


def month_weeks(month):
    """The weeks (Monday first) shown for a month, as lists of dates."""
    return _calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month)


def opening_month(course, duration, now, rules, tutor_id=None):
    """The month the calendar opens on, with its bookable days.

    The month of the earliest bookable day, or the next one when the rest of
    that month has nothing left (e.g. late on the last day of a month).
    """
    first_day, last_day = rules.window(now).local_days()
    month = date(first_day.year, first_day.month, 1)
    days = month_days(course, month, duration, now, rules, tutor_id)
    following = (month + timedelta(days=31)).replace(day=1)
    if not days and following <= last_day:
        return following, month_days(course, following, duration, now, rules, tutor_id)
    return month, days

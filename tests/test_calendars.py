"""Calendars load from the database in a fixed number of queries and feed the slot engine."""

from datetime import date, time, timedelta

import pytest

from tutoradmin.calendars import course_tutors, load_calendars
from tutoradmin.localtime import local_instant
from tutoradmin.models import AvailabilityException, Hold, TimeOff
from tutoradmin.offers import course_offer
from tutoradmin.slots import BookingWindow, course_slots, days_with_slots

from .query_counts import count_queries

MONDAY = date(2026, 12, 7)
NOW = local_instant(date(2026, 12, 1), time(8))


def _course_with_tutors(make, count):
    course = make.course()
    for i in range(count):
        tutor = make.tutor(courses=[course], priority=i)
        for weekday in range(5):
            make.weekly_rule(tutor, weekday=weekday, start=time(9), end=time(17))
        make.appointment(tutor=tutor, course=course, starts_at=local_instant(MONDAY, time(9 + i % 8)))
    return course


@pytest.mark.parametrize("tutors", [2, 12])
def test_a_month_for_a_course_takes_the_same_queries_whatever_the_size(db, make, tutors):
    slug = _course_with_tutors(make, tutors).slug
    db.session.commit()
    db.session.expire_all()
    with count_queries(db) as statements:
        offer = course_offer(slug)
        calendars = load_calendars(offer.tutors, MONDAY, MONDAY + timedelta(days=30), NOW)
        days = days_with_slots(
            calendars, [MONDAY + timedelta(days=i) for i in range(31)], 120, BookingWindow.from_settings(NOW)
        )
    # One for the course and its tutors, one for all their rules, exceptions, time off, sessions and holds.
    assert len(statements) == 2
    assert len(offer.tutors) == tutors and days
    assert [t.priority for t in offer.tutors] == list(range(tutors))


@pytest.mark.bare_rows
def test_loaded_calendars_subtract_appointments_time_off_active_holds_and_closures(db, make):
    course = make.course()
    tutor = make.tutor(courses=[course])
    make.weekly_rule(tutor, weekday=0, start=time(9), end=time(13))
    make.appointment(tutor=tutor, course=course, starts_at=local_instant(MONDAY, time(9)))
    make.appointment(
        tutor=tutor, course=course, starts_at=local_instant(MONDAY, time(12)), status="cancelled", cancelled_at=NOW
    )
    db.session.add(
        TimeOff(
            tutor_id=tutor.id, starts_at=local_instant(MONDAY, time(10)), ends_at=local_instant(MONDAY, time(10, 30))
        )
    )
    db.session.add(
        Hold(
            tutor_id=tutor.id,
            starts_at=local_instant(MONDAY, time(11)),
            ends_at=local_instant(MONDAY, time(12)),
            expires_at=NOW + timedelta(minutes=5),
            created_at=NOW,
        )
    )
    # An expired hold does not count.
    db.session.add(
        Hold(
            tutor_id=tutor.id,
            starts_at=local_instant(MONDAY, time(12)),
            ends_at=local_instant(MONDAY, time(13)),
            expires_at=NOW - timedelta(minutes=1),
            created_at=NOW - timedelta(minutes=16),
        )
    )
    closed_day = MONDAY + timedelta(days=7)
    # A second Monday rule (a tutor's rules never overlap).
    make.weekly_rule(tutor, weekday=0, start=time(15), end=time(16))
    db.session.add(AvailabilityException(tutor_id=tutor.id, date=closed_day, kind="closed"))
    db.session.commit()

    calendars = load_calendars(course_tutors(course.id), MONDAY, closed_day, NOW)
    window = BookingWindow.from_settings(NOW)
    starts = [s.starts_at for s in course_slots(calendars, MONDAY, 60, window)]
    assert starts == [local_instant(MONDAY, time(12)), local_instant(MONDAY, time(15))]
    assert course_slots(calendars, closed_day, 60, window) == []


def test_inactive_tutors_and_other_courses_tutors_are_left_out(db, make):
    course, other = make.course(), make.course()
    best = make.tutor(courses=[course], priority=1)
    make.tutor(courses=[course], priority=0, active=False)
    make.tutor(courses=[other], priority=0)
    db.session.commit()
    assert [t.id for t in course_tutors(course.id)] == [best.id]
    assert course_tutors(course.id, tutor_id=best.id + 1000) == []

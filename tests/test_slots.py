"""The slot rules of SPEC §4, one by one, on the pure slot engine."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutoradmin.localtime import LOCAL_TZ, local_instant
from tutoradmin.models import SESSION_DURATIONS
from tutoradmin.slots import (
    BookingWindow,
    TutorCalendar,
    course_slots,
    days_with_slots,
    find_slot,
    tutor_slots,
)

MONDAY = date(2026, 12, 7)
NOW = local_instant(date(2026, 12, 1), time(8))
WINDOW = BookingWindow.from_settings(NOW)


def calendar(tutor_id=1, priority=10, rules=None, **fields):
    return TutorCalendar(
        tutor_id=tutor_id, priority=priority, rules={0: [(time(9), time(12))]} if rules is None else rules, **fields
    )


def local_starts(slots):
    return [s.starts_at.astimezone(LOCAL_TZ).strftime("%H:%M") for s in slots]


def at(day, hour, minute=0):
    return local_instant(day, time(hour, minute))


def test_slots_start_every_half_hour_and_fit_in_the_rule():
    assert local_starts(tutor_slots(calendar(), MONDAY, 60, WINDOW)) == ["09:00", "09:30", "10:00", "10:30", "11:00"]


def test_rules_off_the_grid_start_at_the_next_half_hour():
    cal = calendar(rules={0: [(time(9, 15), time(11, 15))]})
    assert local_starts(tutor_slots(cal, MONDAY, 60, WINDOW)) == ["09:30", "10:00"]


@pytest.mark.parametrize(
    "duration, starts",
    [
        (60, ["09:00", "09:30", "10:00", "10:30", "11:00"]),
        (90, ["09:00", "09:30", "10:00", "10:30"]),
        (120, ["09:00", "09:30", "10:00"]),
    ],
)
def test_each_duration_fits_inside_the_availability(duration, starts):
    slots = tutor_slots(calendar(), MONDAY, duration, WINDOW)
    assert local_starts(slots) == starts
    assert all(s.ends_at - s.starts_at == timedelta(minutes=duration) for s in slots)


def test_several_rules_on_one_day_are_combined():
    cal = calendar(rules={0: [(time(9), time(10)), (time(10), time(11)), (time(14), time(15))]})
    assert local_starts(tutor_slots(cal, MONDAY, 60, WINDOW)) == ["09:00", "09:30", "10:00", "14:00"]


def test_no_rule_on_a_weekday_means_no_slot():
    assert tutor_slots(calendar(), MONDAY + timedelta(days=1), 60, WINDOW) == []


def test_slots_start_at_least_twelve_hours_from_now():
    now = at(MONDAY, 21, 10) - timedelta(days=1)  # Sunday 21:10: earliest start Monday 09:10
    slots = tutor_slots(calendar(), MONDAY, 60, BookingWindow.from_settings(now))
    assert local_starts(slots) == ["09:30", "10:00", "10:30", "11:00"]


def test_a_slot_exactly_twelve_hours_ahead_is_bookable():
    now = at(MONDAY, 21) - timedelta(days=1)
    assert local_starts(tutor_slots(calendar(), MONDAY, 60, BookingWindow.from_settings(now)))[0] == "09:00"


def test_slots_stop_sixty_days_ahead():
    now = at(MONDAY, 10) - timedelta(days=60)
    slots = tutor_slots(calendar(), MONDAY, 60, BookingWindow.from_settings(now))
    assert local_starts(slots) == ["09:00", "09:30", "10:00"]
    assert tutor_slots(calendar(), MONDAY + timedelta(days=7), 60, BookingWindow.from_settings(now)) == []


def test_an_open_exception_adds_hours_on_a_day_without_rules():
    tuesday = MONDAY + timedelta(days=1)
    cal = calendar(openings={tuesday: [(time(13), time(15))]})
    assert local_starts(tutor_slots(cal, tuesday, 60, WINDOW)) == ["13:00", "13:30", "14:00"]


def test_an_open_exception_extends_a_working_day():
    cal = calendar(openings={MONDAY: [(time(12), time(13))]})
    assert local_starts(tutor_slots(cal, MONDAY, 120, WINDOW)) == ["09:00", "09:30", "10:00", "10:30", "11:00"]


def test_a_closed_day_has_no_slot():
    assert tutor_slots(calendar(closures={MONDAY: [(None, None)]}), MONDAY, 60, WINDOW) == []


def test_closed_hours_remove_only_those_hours():
    cal = calendar(closures={MONDAY: [(time(10), time(11))]})
    assert local_starts(tutor_slots(cal, MONDAY, 60, WINDOW)) == ["09:00", "11:00"]


def test_closed_exceptions_win_over_open_ones_the_same_day():
    cal = calendar(openings={MONDAY: [(time(13), time(14))]}, closures={MONDAY: [(None, None)]})
    assert tutor_slots(cal, MONDAY, 60, WINDOW) == []


def test_time_off_over_several_days_removes_them():
    off = (at(MONDAY, 0) - timedelta(days=2), at(MONDAY, 10, 30))
    assert local_starts(tutor_slots(calendar(busy=[off]), MONDAY, 60, WINDOW)) == ["10:30", "11:00"]


@pytest.mark.parametrize(
    "busy_from, busy_to, expected",
    [
        ((10, 30), (11, 30), ["09:00", "09:30"]),  # overlaps 10:00 and 11:00 slots by half
        ((10, 15), (10, 45), ["09:00", "11:00"]),  # inside a slot, off the grid
        ((8, 0), (9, 30), ["09:30", "10:00", "10:30", "11:00"]),
        ((12, 0), (13, 0), ["09:00", "09:30", "10:00", "10:30", "11:00"]),  # back to back is fine
    ],
)
def test_busy_time_removes_every_slot_it_overlaps_by_any_part(busy_from, busy_to, expected):
    busy = [(at(MONDAY, *busy_from), at(MONDAY, *busy_to))]
    assert local_starts(tutor_slots(calendar(busy=busy), MONDAY, 60, WINDOW)) == expected


def test_a_nine_oclock_rule_stays_nine_oclock_across_the_autumn_change():
    # Daylight saving time ends on Sunday 1 November 2026 in Toronto.
    cal = calendar(rules={6: [(time(9), time(10))]})
    now = at(date(2026, 10, 20), 8)
    before = tutor_slots(cal, date(2026, 10, 25), 60, BookingWindow.from_settings(now))
    after = tutor_slots(cal, date(2026, 11, 1), 60, BookingWindow.from_settings(now))
    assert local_starts(before) == local_starts(after) == ["09:00"]
    assert before[0].starts_at.astimezone(UTC).hour == 13
    assert after[0].starts_at.astimezone(UTC).hour == 14


def test_a_nine_oclock_rule_stays_nine_oclock_across_the_spring_change():
    # Daylight saving time starts on Sunday 8 March 2026.
    cal = calendar(rules={6: [(time(9), time(10))]})
    now = at(date(2026, 2, 20), 8)
    before = tutor_slots(cal, date(2026, 3, 1), 60, BookingWindow.from_settings(now))
    after = tutor_slots(cal, date(2026, 3, 8), 60, BookingWindow.from_settings(now))
    assert local_starts(before) == local_starts(after) == ["09:00"]
    assert after[0].starts_at - before[0].starts_at == timedelta(days=7) - timedelta(hours=1)


def test_a_night_spanning_the_change_keeps_real_durations_and_the_local_grid():
    cal = calendar(rules={6: [(time(0), time(4))]})
    now = at(date(2026, 10, 20), 8)
    slots = tutor_slots(cal, date(2026, 11, 1), 60, BookingWindow.from_settings(now))
    # 00:00 to 04:00 lasts five real hours that night.
    assert len(slots) == 9
    for slot in slots:
        assert slot.ends_at - slot.starts_at == timedelta(hours=1)
        assert slot.starts_at.astimezone(LOCAL_TZ).minute in (0, 30)


def test_the_course_view_gives_each_start_to_the_best_priority():
    first = calendar(tutor_id=7, priority=1, rules={0: [(time(9), time(10))]})
    second = calendar(tutor_id=3, priority=5, rules={0: [(time(9), time(11))]})
    slots = course_slots([second, first], MONDAY, 60, WINDOW)
    assert [(s.starts_at, s.tutor_id) for s in slots] == [
        (at(MONDAY, 9), 7),
        (at(MONDAY, 9, 30), 3),
        (at(MONDAY, 10), 3),
    ]


def test_equal_priorities_go_to_the_lowest_tutor_id():
    slots = course_slots([calendar(tutor_id=9), calendar(tutor_id=4)], MONDAY, 60, WINDOW)
    assert {s.tutor_id for s in slots} == {4}


def test_a_busy_best_tutor_leaves_the_slot_to_the_next():
    busy = [(at(MONDAY, 9), at(MONDAY, 10))]
    first = calendar(tutor_id=1, priority=1, busy=busy)
    second = calendar(tutor_id=2, priority=2)
    slots = course_slots([first, second], MONDAY, 60, WINDOW)
    assert slots[0].starts_at == at(MONDAY, 9) and slots[0].tutor_id == 2
    assert len(slots) == 5  # one slot per start, never two


def test_a_tutors_own_view_is_not_filtered_by_better_tutors():
    first = calendar(tutor_id=1, priority=1)
    second = calendar(tutor_id=2, priority=2)
    assert {s.tutor_id for s in course_slots([first, second], MONDAY, 60, WINDOW)} == {1}
    assert local_starts(tutor_slots(second, MONDAY, 60, WINDOW)) == ["09:00", "09:30", "10:00", "10:30", "11:00"]


def test_the_month_map_lists_days_with_at_least_one_slot():
    days = [MONDAY + timedelta(days=i) for i in range(14)]
    closed = calendar(closures={MONDAY + timedelta(days=7): [(None, None)]})
    assert days_with_slots([closed], days, 60, WINDOW) == [MONDAY]


def test_the_month_map_ignores_days_outside_the_window():
    past = MONDAY - timedelta(days=14)
    assert days_with_slots([calendar()], [past, MONDAY], 60, WINDOW) == [MONDAY]


def test_find_slot_resolves_the_tutor_by_priority():
    cals = [calendar(tutor_id=1, priority=2), calendar(tutor_id=2, priority=1)]
    assert find_slot(cals, at(MONDAY, 10), 90, WINDOW).tutor_id == 2
    assert find_slot(cals, at(MONDAY, 10, 15), 60, WINDOW) is None
    assert find_slot(cals, at(MONDAY, 11), 90, WINDOW) is None
    assert find_slot(cals, at(MONDAY, 10), 45, WINDOW) is None


def test_slot_instants_are_aware_utc_compatible():
    slot = tutor_slots(calendar(), MONDAY, 60, WINDOW)[0]
    assert slot.starts_at == datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
    assert slot.local_date == MONDAY


half_hours = st.integers(min_value=12, max_value=46)  # 6:00 to 23:00, in half hours


@st.composite
def calendars(draw):
    """A few tutors with random rules on the Monday, random busy ranges and priorities."""
    drawn = []
    for tutor_id in range(1, draw(st.integers(1, 4)) + 1):
        rules = []
        for _ in range(draw(st.integers(0, 2))):
            start = draw(half_hours)
            end = draw(st.integers(start + 1, 47))
            rules.append(
                (time(start // 2, 30 * (start % 2) + draw(st.sampled_from([0, 10]))), time(end // 2, 30 * (end % 2)))
            )
        busy = []
        for _ in range(draw(st.integers(0, 3))):
            start = draw(st.integers(0, 47 * 30))
            busy.append((at(MONDAY, 0) + timedelta(minutes=start), at(MONDAY, 0) + timedelta(minutes=start + 60)))
        drawn.append(calendar(tutor_id=tutor_id, priority=draw(st.integers(1, 3)), rules={0: rules}, busy=busy))
    return drawn


@settings(max_examples=300, deadline=None)
@given(calendars(), st.integers(0, 48 * 4 - 1), st.sampled_from(SESSION_DURATIONS))
def test_find_slot_is_the_course_views_slot_at_that_start(cals, quarter, duration):
    starts_at = at(MONDAY, 0) + timedelta(minutes=15 * quarter)
    listed = [s for s in course_slots(cals, MONDAY, duration, WINDOW) if s.starts_at == starts_at]
    assert find_slot(cals, starts_at, duration, WINDOW) == (listed[0] if listed else None)

"""Bookable slots from tutors' calendars: pure functions, `now` given by the caller.

Rules (SPEC §4): availability = weekly rules + open exceptions − closed exceptions
− time off − appointments − active holds; starts on the 30-minute grid of local
time; 60, 90 or 120 minutes; from `now + lead time` to `now + horizon`. Local
times are turned into instants with zoneinfo, so a 9:00 rule stays 9:00 across
daylight-saving changes.
"""

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import lru_cache

from .localtime import LOCAL_TZ, local_day_bounds, local_instant
from .models import SESSION_DURATIONS

GRID = timedelta(minutes=30)
END_OF_DAY = time(23, 59, 59, 999999)

# A month map turns the same local dates and rule hours into instants for every tutor and request:
# pure functions of their arguments, remembered for the few thousand most recent.
_instant = lru_cache(maxsize=8192)(local_instant)
_day_bounds = lru_cache(maxsize=1024)(local_day_bounds)


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    ends_at: datetime
    duration_minutes: int
    tutor_id: int

    @property
    def local_date(self):
        return self.starts_at.astimezone(LOCAL_TZ).date()


@dataclass
class TutorCalendar:
    """Everything that decides one tutor's availability over a period."""

    tutor_id: int
    priority: int
    #: weekday (0 = Monday) -> [(start time, end time)]
    rules: dict = field(default_factory=dict)
    #: date -> [(start time, end time)] of extra opening hours
    openings: dict = field(default_factory=dict)
    #: date -> [(start time or None, end time or None)]; None, None closes the whole day
    closures: dict = field(default_factory=dict)
    #: [(start, end)] aware instants that are taken: time off, appointments, active holds
    busy: list = field(default_factory=list)

    def __post_init__(self):
        self.busy.sort()
        self._busy_starts = [start for start, _ in self.busy]


@dataclass(frozen=True)
class BookingRules:
    """The booking settings: lead time, horizon and hold length."""

    lead_hours: int = 12
    horizon_days: int = 60
    hold_minutes: int = 15

    @classmethod
    def from_config(cls, config):
        return cls(config["BOOKING_LEAD_TIME_HOURS"], config["BOOKING_HORIZON_DAYS"], config["HOLD_MINUTES"])

    def window(self, now):
        return BookingWindow.from_settings(now, self.lead_hours, self.horizon_days)


@dataclass(frozen=True)
class BookingWindow:
    """The earliest and latest bookable starts."""

    earliest: datetime
    latest: datetime

    @classmethod
    def from_settings(cls, now, lead_hours=12, horizon_days=60):
        return cls(now + timedelta(hours=lead_hours), now + timedelta(days=horizon_days))

    def local_days(self):
        """The local dates on which a slot may start."""
        return self.earliest.astimezone(LOCAL_TZ).date(), self.latest.astimezone(LOCAL_TZ).date()


def _union(intervals):
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _subtract(intervals, holes):
    """Parts of sorted, disjoint `intervals` not covered by `holes` (overlap by any part)."""
    result = []
    for start, end in intervals:
        pieces = [(start, end)]
        for hole_start, hole_end in holes:
            pieces = [
                part
                for piece_start, piece_end in pieces
                for part in ((piece_start, min(piece_end, hole_start)), (max(piece_start, hole_end), piece_end))
                if part[0] < part[1]
            ]
        result.extend(pieces)
    return result


def _busy_between(calendar, start, end):
    # Busy ranges are sorted by start: keep those starting before `end` and ending after `start`.
    index = bisect_left(calendar._busy_starts, end)
    return [(s, e) for s, e in calendar.busy[:index] if e > start]


def free_intervals(calendar, day):
    """The tutor's free time on a local date, as aware UTC intervals."""
    ranges = [(_instant(day, s), _instant(day, e)) for s, e in calendar.rules.get(day.weekday(), ())]
    ranges += [(_instant(day, s), _instant(day, e)) for s, e in calendar.openings.get(day, ())]
    if not ranges:
        return []
    day_start, day_end = _day_bounds(day)
    closed = [
        (_instant(day, s) if s else day_start, _instant(day, e) if e else day_end)
        for s, e in calendar.closures.get(day, ())
    ]
    open_ranges = _subtract(_union(ranges), closed)
    if not open_ranges:
        return []
    return _subtract(open_ranges, _busy_between(calendar, open_ranges[0][0], open_ranges[-1][1]))


def _first_grid_start(moment):
    """The first instant at or after `moment` that falls on :00 or :30 local time."""
    local = moment.astimezone(LOCAL_TZ)
    past = timedelta(minutes=local.minute % 30, seconds=local.second, microseconds=local.microsecond)
    return moment if not past else moment + (GRID - past)


def _each_tutor_slot(calendar, day, duration_minutes, window):
    length = timedelta(minutes=duration_minutes)
    for start, end in free_intervals(calendar, day):
        candidate = _first_grid_start(max(start, window.earliest))
        while candidate + length <= end and candidate <= window.latest:
            yield Slot(candidate, candidate + length, duration_minutes, calendar.tutor_id)
            candidate += GRID


def tutor_slots(calendar, day, duration_minutes, window):
    """All of one tutor's slots starting on a local date."""
    return list(_each_tutor_slot(calendar, day, duration_minutes, window))


def has_slot(calendar, day, duration_minutes, window):
    """Whether the tutor has at least one slot starting on a local date (stops at the first)."""
    return next(_each_tutor_slot(calendar, day, duration_minutes, window), None) is not None


def course_slots(calendars, day, duration_minutes, window):
    """One slot per start time, given to the free tutor with the best priority (then lowest id)."""
    best = {}
    for calendar in sorted(calendars, key=lambda c: (c.priority, c.tutor_id)):
        for slot in tutor_slots(calendar, day, duration_minutes, window):
            best.setdefault(slot.starts_at, slot)
    return [best[start] for start in sorted(best)]


def days_with_slots(calendars, days, duration_minutes, window):
    """The local dates among `days` on which at least one tutor has a slot."""
    first, last = window.local_days()
    return [
        day
        for day in days
        if first <= day <= last and any(has_slot(calendar, day, duration_minutes, window) for calendar in calendars)
    ]


def _offers_start(calendar, day, starts_at, ends_at, window):
    # What _each_tutor_slot would yield at `starts_at` (on the grid, in the window): a free interval holds it.
    return any(start <= starts_at and ends_at <= end for start, end in free_intervals(calendar, day))


def find_slot(calendars, starts_at, duration_minutes, window):
    """The slot a course (or a chosen tutor) offers at exactly `starts_at`, or None.

    The slot `course_slots` lists at that start: the best-priority tutor free then, found without
    listing anyone's other slots.
    """
    if duration_minutes not in SESSION_DURATIONS or _first_grid_start(starts_at) != starts_at:
        return None
    if not window.earliest <= starts_at <= window.latest:
        return None
    day = starts_at.astimezone(LOCAL_TZ).date()
    ends_at = starts_at + timedelta(minutes=duration_minutes)
    for calendar in sorted(calendars, key=lambda c: (c.priority, c.tutor_id)):
        if _offers_start(calendar, day, starts_at, ends_at, window):
            return Slot(starts_at, ends_at, duration_minutes, calendar.tutor_id)
    return None

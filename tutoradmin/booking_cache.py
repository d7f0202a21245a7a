"""A short-lived memory of computed calendars (a day's slots, a month's bookable days), one per app process.

The rule: a hold taken shows within CALENDAR_CACHE_SECONDS for other visitors and at once for the visitor
who took or released it (their session carries a « fresh until » instant that makes them skip the memory).
Showing a slot a few seconds too long is harmless: adding it to a cart checks it again in the database.
The minimum notice is never stretched: cached slots are filtered by the current window on the way out,
and a month's days are kept only while the clock alone cannot change them (offers.MonthMap).
The course list and the courses' offers (a course with its tutors) are kept the same way: an office change
shows within the lifetime; adding to the cart reads the offer afresh.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta

from .offers import Offer, course_offer, day_slots, month_map, month_map_and_day, opening_months
from .slots import BookingRules

#: Entries kept per process, least recently used dropped first: a month map is a few dates, a day a few slots.
MAX_ENTRIES = 512
_COURSE_LIST = ("courses",)
#: The visitor's session key: until this instant (a POSIX timestamp), their calendars are computed afresh.
FRESH_UNTIL_KEY = "calendar_fresh_until"
_EXTENSION = "calendar_cache"
_creating = threading.Lock()


class CalendarCache:
    """Results by key, each with its own expiry instant; thread-safe, bounded (LRU)."""

    def __init__(self, seconds, max_entries=MAX_ENTRIES):
        self.ttl = timedelta(seconds=max(seconds, 0))
        self.max_entries = max_entries
        self._entries = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self):
        return self.ttl > timedelta(0)

    def __len__(self):
        return len(self._entries)

    def clear(self):
        with self._lock:
            self._entries.clear()

    def get(self, key, now):
        """The value stored under `key` if it is still valid at `now`, else None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            stored_at, expires_at, value = entry
            # Before its storing instant too: a clock set back must not stretch an entry's life.
            if not stored_at <= now < expires_at:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def put(self, key, value, now, until=None):
        """Keep `value` until now + the TTL, or `until` when sooner."""
        expires_at = now + self.ttl if until is None else min(now + self.ttl, until)
        if not self.enabled or expires_at <= now:
            return
        with self._lock:
            self._entries[key] = (now, expires_at, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


def calendar_cache(app):
    """The app's cache, made at first use (the setting is read then)."""
    cache = app.extensions.get(_EXTENSION)
    if cache is None:
        with _creating:
            cache = app.extensions.setdefault(_EXTENSION, CalendarCache(app.config["CALENDAR_CACHE_SECONDS"]))
    return cache


def mark_fresh(app, session, now):
    """After the visitor took or released time: their calendars are computed afresh for the cache's lifetime."""
    seconds = app.config["CALENDAR_CACHE_SECONDS"]
    if seconds > 0:
        session[FRESH_UNTIL_KEY] = (now + timedelta(seconds=seconds)).timestamp()


def wants_fresh(session, now):
    """Whether this visitor changed their bookings recently enough to skip the cache."""
    fresh_until = session.get(FRESH_UNTIL_KEY)
    return isinstance(fresh_until, int | float) and now.timestamp() < fresh_until


@dataclass(frozen=True)
class ListedCourse:
    """What the course list shows of an active course, apart from any database session."""

    slug: str
    title: str
    sigle: str | None
    institution: str | None
    rate_cents: int


def listed_courses(cache, now, active_courses):
    """The course list, kept like calendars (an office change shows within the lifetime), else `active_courses()`."""
    courses = cache.get(_COURSE_LIST, now)
    if courses is None:
        courses = tuple(ListedCourse(c.slug, c.title, c.sigle, c.institution, c.rate_cents) for c in active_courses())
        cache.put(_COURSE_LIST, courses, now)
    return courses


@dataclass(frozen=True)
class OfferedCourse:
    """What booking reads of a course (its slots, prices and page), apart from any database session."""

    id: int
    slug: str
    title: str
    rate_cents: int


def kept_offer(cache, slug, now):
    """The active course `slug` with its tutors (offers.Offer of an OfferedCourse), kept like calendars; else None.

    An unknown slug is not kept: junk addresses would push the calendars out.
    """
    key = ("offer", slug)
    offer = cache.get(key, now)
    if offer is None:
        found = course_offer(slug)
        if found is None:
            return None
        course = found.course
        offer = Offer(OfferedCourse(course.id, course.slug, course.title, course.rate_cents), found.tutors)
        cache.put(key, offer, now)
    return offer


def visitor_calendars(app, session, offer, duration, now, tutor_id=None):
    """One visitor's booking reads: through the app's cache, unless their session asks for fresh ones."""
    rules = BookingRules.from_config(app.config)
    fresh = wants_fresh(session, now)
    return CachedCalendars(calendar_cache(app), offer, duration, now, rules, tutor_id, fresh)


class CachedCalendars:
    """The booking reads of one request through the cache; `fresh`: compute (and store) without reading it."""

    def __init__(self, cache, offer, duration, now, rules, tutor_id=None, fresh=False):
        self.cache, self.offer, self.duration, self.now, self.rules = cache, offer, duration, now, rules
        self.tutor_id = tutor_id
        self.fresh = fresh or not cache.enabled
        course = offer.course
        # Everything a result depends on besides the period: the course and its rate, its tutors with their
        # priorities (the offer, kept or read), the tutor chosen, the duration and the rules.
        self._key = (course.id, course.rate_cents, offer.tutors, tutor_id, duration, rules)

    def _read(self, key):
        return None if self.fresh else self.cache.get(key, self.now)

    def day_slots(self, day):
        """The slots of a local date, none whose start is now within the minimum notice."""
        key = ("day", day, *self._key)
        slots = self._read(key)
        if slots is None:
            slots = tuple(
                day_slots(self.offer.course, day, self.duration, self.now, self.rules, self.tutor_id, self.offer.tutors)
            )
            self.cache.put(key, slots, self.now)
        return self._current(slots)

    def month_days(self, month):
        """The bookable dates of `month` (its first day)."""
        key = ("month", month, *self._key)
        found = self._read(key)
        if found is None:
            found = month_map(
                self.offer.course, month, self.duration, self.now, self.rules, self.tutor_id, self.offer.tutors
            )
            self.cache.put(key, found, self.now, until=found.exact_until)
        return list(found.days)

    def month_and_day(self, month, day):
        """The booking page's calendar, as offers.month_and_day: (month, its bookable days, the slots of `day`)."""
        if day is not None:
            month = day.replace(day=1)
        if month is None:
            return (*opening_months(self.rules, self.now, self.month_days), [])
        month_key, day_key = ("month", month, *self._key), ("day", day, *self._key)
        found, slots = self._read(month_key), self._read(day_key) if day is not None else ()
        if found is None or slots is None:
            # One load of calendars for both, as without the cache.
            found, day_list = month_map_and_day(
                self.offer.course, month, day, self.duration, self.now, self.rules, self.tutor_id, self.offer.tutors
            )
            slots = tuple(day_list)
            self.cache.put(month_key, found, self.now, until=found.exact_until)
            if day is not None:
                self.cache.put(day_key, slots, self.now)
        return month, list(found.days), self._current(slots)

    def _current(self, slots):
        earliest = self.rules.window(self.now).earliest
        return [slot for slot in slots if slot.starts_at >= earliest]

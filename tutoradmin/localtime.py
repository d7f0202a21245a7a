"""The business's local time (America/Toronto): instants, days and calendar months.

Times are stored as aware UTC instants; a local date or wall-clock time becomes one here,
with zoneinfo, so that a 9:00 rule stays 9:00 across daylight-saving changes.
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

#: The business's time zone, also Flask-Babel's (config.py).
TIMEZONE_NAME = "America/Toronto"
LOCAL_TZ = ZoneInfo(TIMEZONE_NAME)


def to_local(moment):
    """An aware datetime in the business's time zone."""
    return moment.astimezone(LOCAL_TZ)


def local_instant(day, moment):
    """The aware UTC instant of a local date and wall-clock time."""
    return datetime.combine(day, moment, tzinfo=LOCAL_TZ).astimezone(UTC)


def local_day_bounds(day):
    """UTC instants of the start of `day` and of the next day, in local time."""
    return local_instant(day, time(0)), local_instant(day + timedelta(days=1), time(0))


def local_today(now):
    """The business's date at the instant `now`."""
    return to_local(now).date()


# --- calendar months, each named by its first day ------------------------------------------


def add_months(day, months):
    """The first day of the month `months` after (or before) the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1, day=1)


def next_month(day):
    return add_months(day, 1)


def month_of(moment):
    """The first day of the local month of an instant."""
    return local_today(moment).replace(day=1)


def previous_month(now):
    """The first day of the local month before the one `now` falls in."""
    return add_months(month_of(now), -1)


def month_is_over(start, now):
    """Whether the local month beginning on `start` has ended at `now`."""
    return local_today(now) >= next_month(start)


def month_bounds(start):
    """UTC instants of the start of the local month beginning on `start` and of the next one."""
    return local_instant(start, time(0)), local_instant(next_month(start), time(0))

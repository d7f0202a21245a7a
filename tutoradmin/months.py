"""Local (America/Toronto) calendar months: first days, bounds and arithmetic."""

from datetime import time

from .formatting import to_local
from .slots import local_instant


def local_today(now):
    """The business's date at the instant `now`."""
    return to_local(now).date()


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

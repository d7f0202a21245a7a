"""Labels the booking page and its JSON repeat for every slot: formatted once per process, not per slot."""

from functools import lru_cache

from ..formatting import local_time, money
from ..localtime import to_local

#: Clock labels by local (hour, minute), all that a label shows: at most one per minute of the day.
_CLOCK_LABELS = {}


def clock_label(moment):
    """`formatting.local_time` of an instant, as 09 h 30, read from the labels already made when possible."""
    local = to_local(moment)
    key = (local.hour, local.minute)
    label = _CLOCK_LABELS.get(key)
    if label is None:
        label = _CLOCK_LABELS[key] = local_time(local)
    return label


@lru_cache(maxsize=256)
def price_label(cents):
    """`formatting.money` of a price in cents (a handful of prices: course rates × three durations)."""
    return money(cents)

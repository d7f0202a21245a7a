"""The years the business works in: dates typed by the office or tutors, and the tables that keep them."""

from datetime import UTC, date, datetime

from sqlalchemy import CheckConstraint

BUSINESS_YEARS = range(2000, 2101)
FIRST_DAY = date(BUSINESS_YEARS.start, 1, 1)
LAST_DAY = date(BUSINESS_YEARS.stop - 1, 12, 31)
# Timestamps are checked in UTC, the way they are stored; the end is exclusive.
FIRST_INSTANT = datetime(BUSINESS_YEARS.start, 1, 1, tzinfo=UTC)
END_INSTANT = datetime(BUSINESS_YEARS.stop, 1, 1, tzinfo=UTC)
OUTSIDE_BUSINESS_YEARS = (
    f"Date invalide : choisissez une date entre {BUSINESS_YEARS.start} et {BUSINESS_YEARS.stop - 1}."
)


def within_business_years(value):
    """Whether a date, or an aware timestamp, lies in the business years (None counts as within)."""
    if value is None:
        return True
    if isinstance(value, datetime):
        return FIRST_INSTANT <= value < END_INSTANT
    return FIRST_DAY <= value <= LAST_DAY


def business_date_check(column, name):
    """CHECK constraint keeping a DATE column in the business years (NULL passes, as in any CHECK)."""
    return CheckConstraint(f"{column} BETWEEN '{FIRST_DAY}' AND '{LAST_DAY}'", name=name)


def business_instant_check(column, name):
    """CHECK constraint keeping a UTC timestamp column in the business years (NULL passes).

    The bounds carry their offset, so PostgreSQL reads them the same in any session time zone;
    SQLite compares the stored 'YYYY-MM-DD HH:MM:SS' text, which sorts like the instants it names.
    """
    first, end = FIRST_INSTANT.isoformat(" "), END_INSTANT.isoformat(" ")
    return CheckConstraint(f"{column} >= '{first}' AND {column} < '{end}'", name=name)

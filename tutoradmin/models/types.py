"""Column types and helpers shared by every model module."""

import enum
from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, DateTime
from sqlalchemy.types import TypeDecorator

#: The largest value of an INTEGER column on PostgreSQL (ids, amounts in cents): no stored row has more.
MAX_INTEGER = 2**31 - 1

# Dates far outside any booking period are refused outright: near year 1 or 9999,
# the day and month arithmetic of the calendar would overflow.
YEARS = range(1900, 3000)


def utcnow():
    """Current time as an aware UTC datetime (the only clock column defaults use)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware timestamp stored in UTC on every database.

    SQLite has no time zones, so values are stored there as naive UTC and made
    aware again on load; naive datetimes are refused so local times never slip in.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("Naive datetime refused: timestamps must be timezone-aware.")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None or value.tzinfo is UTC:
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Not StrEnum: str() and f-strings of a member would give its value instead of "Class.NAME".
class Choices(str, enum.Enum):  # noqa: UP042
    """A closed set of string values stored as text and checked by the database."""

    @classmethod
    def values(cls):
        return [member.value for member in cls]

    @classmethod
    def check(cls, column, name):
        """CHECK constraint restricting `column` to the enum's values."""
        allowed = ", ".join(f"'{value}'" for value in cls.values())
        return CheckConstraint(f"{column} IN ({allowed})", name=name)

    def __str__(self):
        return self.value

    # Hash like the plain string so that sets and dicts of members match stored values.
    def __hash__(self):
        return str.__hash__(self.value)


SESSION_DURATIONS = (60, 90, 120)


def duration_check(column="duration_minutes", name="duration_allowed"):
    """CHECK constraint for the session lengths the business sells."""
    allowed = ", ".join(str(d) for d in SESSION_DURATIONS)
    return CheckConstraint(f"{column} IN ({allowed})", name=name)

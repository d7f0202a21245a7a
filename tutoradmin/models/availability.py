"""When tutors work: weekly rules, dated exceptions and time off."""

from datetime import date, datetime, time

from sqlalchemy import (
    DDL,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Time,
    UniqueConstraint,
    cast,
    event,
    extract,
    func,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .dates import business_date_check, business_instant_check
from .types import Choices, UTCDateTime, utcnow

WEEKDAY_LABELS = ("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche")


class WeeklyRule(db.Model):
    """Recurring working hours on a weekday (0 = Monday), in local time."""

    __tablename__ = "weekly_rules"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("end_time > start_time", name="end_after_start"),
        # The same hours twice; overlapping hours are refused too (see below the class).
        UniqueConstraint("tutor_id", "weekday", "start_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tutor_id: Mapped[int] = mapped_column(ForeignKey("tutors.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tutor: Mapped["Tutor"] = relationship()  # noqa: F821

    def __str__(self):
        return f"{WEEKDAY_LABELS[self.weekday]} {self.start_time:%H:%M}–{self.end_time:%H:%M}"


# No two weekly rules of a tutor overlap on a weekday (SPEC §10); back-to-back rules (9–12, 12–15)
# do not overlap. PostgreSQL holds it with an exclusion constraint, race-free; SQLite, which runs one
# writer at a time, with triggers. `sqlalchemy.exc.IntegrityError` either way. Rules are written
# rarely, by hand, so the cost of the check does not matter.
RULES_OVERLAP = "weekly_rules_overlap"
_rules = WeeklyRule.__table__


def _seconds(column):
    # Seconds since midnight: EXTRACT on a time without time zone is immutable, as an index needs.
    return cast(extract("epoch", column), Integer)


_rules.append_constraint(
    ExcludeConstraint(
        (_rules.c.tutor_id, "="),
        (_rules.c.weekday, "="),
        (func.int4range(_seconds(_rules.c.start_time), _seconds(_rules.c.end_time)), "&&"),
        name=f"ex_{RULES_OVERLAP}",
        using="gist",
    ).ddl_if(dialect="postgresql")
)

_OVERLAPPING_RULE_SQL = f"""
    SELECT RAISE(ABORT, '{RULES_OVERLAP}') WHERE EXISTS (
        SELECT 1 FROM weekly_rules AS other
        WHERE other.tutor_id = NEW.tutor_id AND other.weekday = NEW.weekday AND other.id IS NOT NEW.id
          AND other.start_time < NEW.end_time AND NEW.start_time < other.end_time
    );"""
SQLITE_RULES_OVERLAP_TRIGGERS = {
    "weekly_rules_no_overlap_insert": f"""
        CREATE TRIGGER weekly_rules_no_overlap_insert BEFORE INSERT ON weekly_rules
        BEGIN {_OVERLAPPING_RULE_SQL}
        END""",
    "weekly_rules_no_overlap_update": f"""
        CREATE TRIGGER weekly_rules_no_overlap_update
        BEFORE UPDATE OF tutor_id, weekday, start_time, end_time ON weekly_rules
        BEGIN {_OVERLAPPING_RULE_SQL}
        END""",
}
for _trigger in SQLITE_RULES_OVERLAP_TRIGGERS.values():
    event.listen(_rules, "after_create", DDL(_trigger).execute_if(dialect="sqlite"))


class ExceptionKind(Choices):
    OPEN = "open"
    CLOSED = "closed"


EXCEPTION_KIND_LABELS = {
    ExceptionKind.OPEN: "Ouvert (heures en plus)",
    ExceptionKind.CLOSED: "Fermé",
}


class AvailabilityException(db.Model):
    """A date on which a tutor opens extra hours or closes (all day when no hours are given)."""

    __tablename__ = "availability_exceptions"
    __table_args__ = (
        ExceptionKind.check("kind", "kind_allowed"),
        CheckConstraint(
            "(start_time IS NULL AND end_time IS NULL) OR "
            "(start_time IS NOT NULL AND end_time IS NOT NULL AND end_time > start_time)",
            name="hours_consistent",
        ),
        CheckConstraint("kind = 'closed' OR start_time IS NOT NULL", name="open_needs_hours"),
        business_date_check("date", "date_within_business_years"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tutor_id: Mapped[int] = mapped_column(ForeignKey("tutors.id", ondelete="CASCADE"), index=True)
    date: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(10))
    start_time: Mapped[time | None] = mapped_column(Time)
    end_time: Mapped[time | None] = mapped_column(Time)
    note: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tutor: Mapped["Tutor"] = relationship()  # noqa: F821


class TimeOff(db.Model):
    """A period during which a tutor takes no sessions."""

    __tablename__ = "time_off"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="end_after_start"),
        business_instant_check("starts_at", "starts_within_business_years"),
        business_instant_check("ends_at", "ends_within_business_years"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tutor_id: Mapped[int] = mapped_column(ForeignKey("tutors.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tutor: Mapped["Tutor"] = relationship()  # noqa: F821

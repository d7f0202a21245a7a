"""Booked sessions, their history, meeting links and ratings."""

from datetime import datetime

from sqlalchemy import (
    DDL,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    event,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .attendance import Attendance
from .types import Choices, UTCDateTime, duration_check, utcnow

#: Completed sessions: those the statements pay (earnings.payable; partial index below).
PAYABLE_SESSIONS = "status = 'completed'"
#: Completed sessions marked absent or annulation tardive (partial index below).
MISSED_SESSIONS = "status = 'completed' AND attendance IN ('no_show', 'late_cancel')"


class AppointmentStatus(Choices):
    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


#: Sessions that take the tutor's time (a cancelled one frees it).
OCCUPYING_STATUSES = (AppointmentStatus.SCHEDULED.value, AppointmentStatus.COMPLETED.value)

APPOINTMENT_STATUS_LABELS = {
    AppointmentStatus.SCHEDULED: "Planifiée",
    AppointmentStatus.COMPLETED: "Terminée",
    AppointmentStatus.CANCELLED: "Annulée",
}


class Appointment(db.Model):
    """A session between a student and a tutor for a course."""

    __tablename__ = "appointments"
    __table_args__ = (
        duration_check(),
        AppointmentStatus.check("status", "status_allowed"),
        CheckConstraint("ends_at > starts_at", name="end_after_start"),
        CheckConstraint("status <> 'cancelled' OR cancelled_at IS NOT NULL", name="cancelled_has_date"),
        # A session is completed by its attendance mark (SPEC §10); a marked session stays marked if cancelled later.
        Attendance.check("attendance", "attendance_allowed"),
        CheckConstraint("status <> 'completed' OR attendance IS NOT NULL", name="completed_is_marked"),
        CheckConstraint("attendance IS NULL OR status <> 'scheduled'", name="marked_is_not_scheduled"),
        CheckConstraint(
            "(attendance IS NULL AND attendance_marked_at IS NULL AND tutor_share_percent IS NULL"
            " AND student_credit_percent IS NULL)"
            " OR (attendance IS NOT NULL AND attendance_marked_at IS NOT NULL"
            " AND tutor_share_percent BETWEEN 0 AND 100 AND student_credit_percent BETWEEN 0 AND 100)",
            name="mark_has_its_shares",
        ),
        CheckConstraint(
            "attendance IS NULL OR attendance <> 'present'"
            " OR (tutor_share_percent = 100 AND student_credit_percent = 0)",
            name="present_is_paid_in_full",
        ),
        Index("ix_appointments_tutor_starts", "tutor_id", "starts_at"),
        Index("ix_appointments_status_starts", "status", "starts_at"),
        # Covering the revenue report's join of sessions to their order items and its tutor cost
        # (reports.py, earnings.session_earnings): read from the index alone, in order_item_id order.
        Index(
            "ix_appointments_item_sessions",
            "order_item_id",
            "status",
            "starts_at",
            "tutor_id",
            "course_id",
            "duration_minutes",
            "tutor_share_percent",
        ),
        # A short period's tutor cost (the overview's two months, reports.month_over_month): its completed
        # sessions read from the index alone, each then joined to its order item by key, instead of a hash
        # join that reads every order item ever sold.
        Index(
            "ix_appointments_payable_starts",
            "starts_at",
            "order_item_id",
            "tutor_id",
            "course_id",
            "duration_minutes",
            "tutor_share_percent",
            sqlite_where=text(PAYABLE_SESSIONS),
            postgresql_where=text(PAYABLE_SESSIONS),
        ),
        # The revenue report's absences and late cancellations (attendance_income.py): a few rows among all.
        Index(
            "ix_appointments_missed_starts",
            "starts_at",
            sqlite_where=text(MISSED_SESSIONS),
            postgresql_where=text(MISSED_SESSIONS),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Empty for sessions that staff booked without payment.
    order_item_id: Mapped[int | None] = mapped_column(ForeignKey("order_items.id", ondelete="RESTRICT"), unique=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    tutor_id: Mapped[int] = mapped_column(ForeignKey("tutors.id", ondelete="RESTRICT"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="RESTRICT"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=AppointmentStatus.SCHEDULED.value)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The attendance mark (attendance.py) and the policy's shares in force when it was made.
    attendance: Mapped[str | None] = mapped_column(String(20))
    attendance_note: Mapped[str | None] = mapped_column(Text)
    attendance_marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Empty for the default mark after the grace period.
    attendance_marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    tutor_share_percent: Mapped[int | None] = mapped_column(SmallInteger)
    student_credit_percent: Mapped[int | None] = mapped_column(SmallInteger)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    student: Mapped["User"] = relationship(foreign_keys=[student_id])  # noqa: F821
    tutor: Mapped["Tutor"] = relationship()  # noqa: F821
    course: Mapped["Course"] = relationship()  # noqa: F821
    order_item: Mapped["OrderItem | None"] = relationship(back_populates="appointment")  # noqa: F821
    meeting_link: Mapped["MeetingLink | None"] = relationship(
        back_populates="appointment", cascade="all, delete-orphan"
    )
    changes: Mapped[list["AppointmentChange"]] = relationship(
        back_populates="appointment", cascade="all, delete-orphan", order_by="AppointmentChange.id"
    )
    rating: Mapped["Rating | None"] = relationship(back_populates="appointment")

    def __str__(self):
        return f"Séance #{self.id}"

    def is_upcoming(self, now):
        """Still to come and not cancelled: the tutor can still change or cancel it."""
        return self.status == AppointmentStatus.SCHEDULED and self.starts_at > now

    @classmethod
    def occupying(cls):
        """SQL condition: the session takes the tutor's time."""
        return cls.status.in_(OCCUPYING_STATUSES)


# The second guard against double booking, independent of the slot cells (see SlotLock): the
# database itself refuses two occupying sessions of one tutor that overlap. PostgreSQL holds it
# with an exclusion constraint, race-free across app servers; SQLite, which runs one writer at a
# time, with triggers. `sqlalchemy.exc.IntegrityError` either way.
_OCCUPYING_SQL = ", ".join(f"'{status}'" for status in OCCUPYING_STATUSES)
NO_OVERLAP_NAME = "no_overlapping_sessions"

Appointment.__table__.append_constraint(
    ExcludeConstraint(
        (Appointment.__table__.c.tutor_id, "="),
        (func.tstzrange(Appointment.__table__.c.starts_at, Appointment.__table__.c.ends_at), "&&"),
        name=f"ex_appointments_{NO_OVERLAP_NAME}",
        using="gist",
        where=f"status IN ({_OCCUPYING_SQL})",
    ).ddl_if(dialect="postgresql")
)

_OVERLAPPING_SQL = f"""
    SELECT RAISE(ABORT, '{NO_OVERLAP_NAME}') WHERE EXISTS (
        SELECT 1 FROM appointments AS other
        WHERE other.tutor_id = NEW.tutor_id AND other.id IS NOT NEW.id
          AND other.status IN ({_OCCUPYING_SQL})
          AND other.starts_at < NEW.ends_at AND NEW.starts_at < other.ends_at
    );"""
SQLITE_NO_OVERLAP_TRIGGERS = {
    "appointments_no_overlap_insert": f"""
        CREATE TRIGGER appointments_no_overlap_insert BEFORE INSERT ON appointments
        WHEN NEW.status IN ({_OCCUPYING_SQL})
        BEGIN {_OVERLAPPING_SQL}
        END""",
    "appointments_no_overlap_update": f"""
        CREATE TRIGGER appointments_no_overlap_update
        BEFORE UPDATE OF tutor_id, starts_at, ends_at, status ON appointments
        WHEN NEW.status IN ({_OCCUPYING_SQL})
        BEGIN {_OVERLAPPING_SQL}
        END""",
}
for _trigger in SQLITE_NO_OVERLAP_TRIGGERS.values():
    event.listen(Appointment.__table__, "after_create", DDL(_trigger).execute_if(dialect="sqlite"))


class ChangeKind(Choices):
    CREATED = "created"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"
    COMPLETED = "completed"
    MEETING_LINK = "meeting_link"
    REFUNDED = "refunded"
    RATED = "rated"
    ATTENDANCE = "attendance"


class AppointmentChange(db.Model):
    """One entry of an appointment's modification history."""

    __tablename__ = "appointment_changes"
    __table_args__ = (ChangeKind.check("kind", "kind_allowed"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    previous_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    new_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    previous_tutor_id: Mapped[int | None] = mapped_column(ForeignKey("tutors.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    appointment: Mapped[Appointment] = relationship(back_populates="changes")


class MeetingProvider(Choices):
    ZOOM = "zoom"
    TEAMS = "teams"
    MEET = "meet"
    OTHER = "other"


class MeetingLink(db.Model):
    """Where an online session takes place."""

    __tablename__ = "meeting_links"
    __table_args__ = (
        MeetingProvider.check("provider", "provider_allowed"),
        CheckConstraint("url LIKE 'https://%'", name="url_https"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"), unique=True)
    provider: Mapped[str] = mapped_column(String(10))
    url: Mapped[str] = mapped_column(String(500))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    appointment: Mapped[Appointment] = relationship(back_populates="meeting_link")


class Rating(db.Model):
    """A student's rating of a completed session."""

    __tablename__ = "ratings"
    __table_args__ = (
        CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
        CheckConstraint(
            "(comment_hidden_at IS NULL AND comment_hidden_reason IS NULL)"
            " OR (comment_hidden_at IS NOT NULL AND comment_hidden_reason <> '')",
            name="hidden_comment_has_reason",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"), unique=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The office may hide an abusive comment (with a reason, audited); the score still counts.
    comment_hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment_hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    comment_hidden_reason: Mapped[str | None] = mapped_column(Text)

    appointment: Mapped[Appointment] = relationship(back_populates="rating")

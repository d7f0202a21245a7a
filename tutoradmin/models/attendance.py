"""Attendance marks and the policy that turns them into credits and tutor pay (SPEC §10)."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, SmallInteger
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import Choices, UTCDateTime, utcnow


class Attendance(Choices):
    """How a session went, marked after it ends by its tutor or the office (or by default)."""

    PRESENT = "present"
    NO_SHOW = "no_show"
    LATE_CANCEL = "late_cancel"


ATTENDANCE_LABELS = {
    Attendance.PRESENT: "Présent",
    Attendance.NO_SHOW: "Absent",
    Attendance.LATE_CANCEL: "Annulation tardive",
}

#: SPEC §10's defaults, also the first policy row written by the migration.
DEFAULT_POLICY = {
    "late_cancel_window_hours": 24,
    "late_cancel_credit_percent": 50,
    "no_show_credit_percent": 0,
    "late_cancel_tutor_percent": 50,
    "no_show_tutor_percent": 100,
}


def _percent(column):
    return CheckConstraint(f"{column} BETWEEN 0 AND 100", name=f"{column}_range")


class AttendancePolicy(db.Model):
    """One version of the attendance policy; the latest row is in force. Rows are never edited.

    A mark copies the shares in force onto its session, so a policy change applies to sessions
    marked afterwards only.
    """

    __tablename__ = "attendance_policies"
    __table_args__ = (
        CheckConstraint("late_cancel_window_hours BETWEEN 0 AND 168", name="window_range"),
        _percent("late_cancel_credit_percent"),
        _percent("no_show_credit_percent"),
        _percent("late_cancel_tutor_percent"),
        _percent("no_show_tutor_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    late_cancel_window_hours: Mapped[int] = mapped_column(SmallInteger)
    late_cancel_credit_percent: Mapped[int] = mapped_column(SmallInteger)
    no_show_credit_percent: Mapped[int] = mapped_column(SmallInteger)
    late_cancel_tutor_percent: Mapped[int] = mapped_column(SmallInteger)
    no_show_tutor_percent: Mapped[int] = mapped_column(SmallInteger)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CourseRequestStatus(Choices):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


COURSE_REQUEST_STATUS_LABELS = {
    CourseRequestStatus.PENDING: "En attente",
    CourseRequestStatus.APPROVED: "Acceptée",
    CourseRequestStatus.REFUSED: "Refusée",
}


class CourseRequest(db.Model):
    """A tutor asks to teach a course; the office approves (which assigns the course) or refuses."""

    __tablename__ = "course_requests"
    __table_args__ = (
        CourseRequestStatus.check("status", "status_allowed"),
        CheckConstraint(
            "(status = 'pending' AND decided_at IS NULL) OR (status <> 'pending' AND decided_at IS NOT NULL)",
            name="decided_when_not_pending",
        ),
        # One request waiting per tutor and course.
        db.Index(
            "uq_course_requests_pending",
            "tutor_id",
            "course_id",
            unique=True,
            sqlite_where=db.text("status = 'pending'"),
            postgresql_where=db.text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tutor_id: Mapped[int] = mapped_column(ForeignKey("tutors.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(db.Text, default="")
    status: Mapped[str] = mapped_column(db.String(10), default=CourseRequestStatus.PENDING.value)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decision_note: Mapped[str | None] = mapped_column(db.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tutor: Mapped["Tutor"] = db.relationship()  # noqa: F821
    course: Mapped["Course"] = db.relationship()  # noqa: F821

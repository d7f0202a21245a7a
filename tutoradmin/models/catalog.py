"""Courses, tutors and which tutor teaches which course."""

import re
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow

DEFAULT_COURSE_RATE_CENTS = 4500
# A course's slug is its URL (/cours/<slug>): lowercase ASCII words joined by single hyphens.
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# The same rule in SQL both databases understand (neither shares a regular-expression syntax).
SLUG_FORMAT_SQL = (
    "slug <> '' AND ltrim(slug, 'abcdefghijklmnopqrstuvwxyz0123456789-') = '' "
    "AND slug NOT LIKE '-%' AND slug NOT LIKE '%-' AND slug NOT LIKE '%--%'"
)


class TutorCourse(db.Model):
    """Assignment of a tutor to a course."""

    __tablename__ = "tutor_courses"

    tutor_id: Mapped[int] = mapped_column(ForeignKey("tutors.id", ondelete="CASCADE"), primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Course(db.Model):
    __tablename__ = "courses"
    __table_args__ = (
        CheckConstraint("rate_cents > 0", name="rate_positive"),
        CheckConstraint(SLUG_FORMAT_SQL, name="slug_format"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    full_name: Mapped[str] = mapped_column(String(255), default="")
    sigle: Mapped[str | None] = mapped_column(String(30))
    institution: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    rate_cents: Mapped[int] = mapped_column(Integer, default=DEFAULT_COURSE_RATE_CENTS)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tutors: Mapped[list["Tutor"]] = relationship(
        secondary="tutor_courses", back_populates="courses", order_by="Tutor.priority"
    )

    def __str__(self):
        return self.title


class Tutor(db.Model):
    __tablename__ = "tutors"
    __table_args__ = (
        CheckConstraint("hourly_rate_cents > 0", name="hourly_rate_positive"),
        CheckConstraint("priority >= 0", name="priority_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    bio: Mapped[str] = mapped_column(Text, default="")
    contact_email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    hourly_rate_cents: Mapped[int] = mapped_column(Integer)
    # Lower is served first when several tutors are free for the same slot.
    priority: Mapped[int] = mapped_column(Integer, default=100, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped["User"] = relationship(back_populates="tutor_profile")  # noqa: F821
    courses: Mapped[list[Course]] = relationship(
        secondary="tutor_courses", back_populates="tutors", order_by="Course.title"
    )

    def __str__(self):
        return self.display_name

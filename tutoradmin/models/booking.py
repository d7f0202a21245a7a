"""Carts, their items and the time-limited holds that reserve a tutor's time."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, duration_check, utcnow


class Cart(db.Model):
    """A student's cart, or a guest's tied to a browser session key."""

    __tablename__ = "carts"
    __table_args__ = (CheckConstraint("user_id IS NOT NULL OR session_key IS NOT NULL", name="has_owner"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    session_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupons.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    items: Mapped[list["CartItem"]] = relationship(
        back_populates="cart", cascade="all, delete-orphan", order_by="CartItem.starts_at"
    )
    coupon: Mapped["Coupon | None"] = relationship()  # noqa: F821


class CartItem(db.Model):
    """One session the student intends to buy, priced when added."""

    __tablename__ = "cart_items"
    __table_args__ = (
        duration_check(),
        CheckConstraint("ends_at > starts_at", name="end_after_start"),
        CheckConstraint("price_cents > 0", name="price_positive"),
        UniqueConstraint("cart_id", "course_id", "starts_at", "duration_minutes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="RESTRICT"))
    tutor_id: Mapped[int] = mapped_column(ForeignKey("tutors.id", ondelete="RESTRICT"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    price_cents: Mapped[int] = mapped_column(Integer)
    # Cleared when the hold expires and is swept: the cart then offers to hold it again.
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("holds.id", ondelete="SET NULL"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cart: Mapped[Cart] = relationship(back_populates="items")
    course: Mapped["Course"] = relationship()  # noqa: F821
    tutor: Mapped["Tutor"] = relationship()  # noqa: F821
    hold: Mapped["Hold | None"] = relationship()


class Hold(db.Model):
    """A short reservation of a tutor's time while a student checks out."""

    __tablename__ = "holds"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="end_after_start"),
        CheckConstraint("expires_at > created_at", name="expires_after_creation"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tutor_id: Mapped[int] = mapped_column(ForeignKey("tutors.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    locks: Mapped[list["SlotLock"]] = relationship(
        back_populates="hold", cascade="all, delete-orphan", passive_deletes=True
    )

    @classmethod
    def active_at(cls, now):
        """SQL condition: the hold still reserves its time at `now`."""
        return cls.expires_at > now

    def is_active(self, now):
        return self.expires_at > now


class SlotLock(db.Model):
    """One occupied 30-minute cell of a tutor's time, owned by a hold or an appointment.

    Slots start on a 30-minute grid and last a multiple of 30 minutes, so a session
    occupies whole cells. The unique key on (tutor, cell) makes two overlapping holds
    or appointments of one tutor impossible on every database: of two transactions
    racing for a cell, the second insert fails, even across app servers. Locks go
    with their owner (ON DELETE CASCADE) and pass from a hold to its appointment.
    """

    __tablename__ = "slot_locks"
    __table_args__ = (
        UniqueConstraint("tutor_id", "cell_start"),
        CheckConstraint(
            "(hold_id IS NULL AND appointment_id IS NOT NULL) OR (hold_id IS NOT NULL AND appointment_id IS NULL)",
            name="single_owner",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tutor_id: Mapped[int] = mapped_column(ForeignKey("tutors.id", ondelete="CASCADE"))
    cell_start: Mapped[datetime] = mapped_column(UTCDateTime)
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("holds.id", ondelete="CASCADE"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"), index=True)

    hold: Mapped[Hold | None] = relationship(back_populates="locks")

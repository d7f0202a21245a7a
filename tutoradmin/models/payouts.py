"""Monthly tutor payout statements and their later adjustments."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .dates import BUSINESS_YEARS
from .types import Choices, UTCDateTime, utcnow


class PayoutStatus(Choices):
    PENDING = "pending"
    PAID = "paid"


PAYOUT_STATUS_LABELS = {PayoutStatus.PENDING: "À payer", PayoutStatus.PAID: "Payé"}


class TutorPayout(db.Model):
    """A tutor's statement for one month; once paid it is locked."""

    __tablename__ = "tutor_payouts"
    __table_args__ = (
        UniqueConstraint("tutor_id", "year", "month"),
        PayoutStatus.check("status", "status_allowed"),
        CheckConstraint("month BETWEEN 1 AND 12", name="month_range"),
        CheckConstraint(f"year BETWEEN {BUSINESS_YEARS.start} AND {BUSINESS_YEARS.stop - 1}", name="year_range"),
        CheckConstraint("minutes >= 0 AND earnings_cents >= 0", name="totals_not_negative"),
        CheckConstraint("amount_cents = earnings_cents + adjustments_cents", name="amount_consistent"),
        CheckConstraint(
            "status <> 'paid' OR (paid_at IS NOT NULL AND confirmation_number IS NOT NULL "
            "AND confirmation_number <> '')",
            name="paid_is_confirmed",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tutor_id: Mapped[int] = mapped_column(ForeignKey("tutors.id", ondelete="RESTRICT"))
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    earnings_cents: Mapped[int] = mapped_column(Integer, default=0)
    adjustments_cents: Mapped[int] = mapped_column(Integer, default=0)
    amount_cents: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default=PayoutStatus.PENDING.value)
    confirmation_number: Mapped[str | None] = mapped_column(String(100))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tutor: Mapped["Tutor"] = relationship()  # noqa: F821
    adjustments: Mapped[list["PayoutAdjustment"]] = relationship(
        back_populates="applied_payout", foreign_keys="PayoutAdjustment.applied_payout_id"
    )


class PayoutAdjustment(db.Model):
    """A correction to an already paid month (e.g. a refunded session), carried to a later statement."""

    __tablename__ = "payout_adjustments"
    __table_args__ = (CheckConstraint("amount_cents <> 0", name="amount_not_zero"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tutor_id: Mapped[int] = mapped_column(ForeignKey("tutors.id", ondelete="RESTRICT"), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    order_item_id: Mapped[int | None] = mapped_column(ForeignKey("order_items.id", ondelete="SET NULL"), unique=True)
    # A session's attendance corrected after its month was paid (attendance.py); several corrections may follow.
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id", ondelete="SET NULL"), index=True)
    source_payout_id: Mapped[int | None] = mapped_column(ForeignKey("tutor_payouts.id", ondelete="RESTRICT"))
    # Empty until a statement takes the adjustment into account.
    applied_payout_id: Mapped[int | None] = mapped_column(
        ForeignKey("tutor_payouts.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    applied_payout: Mapped[TutorPayout | None] = relationship(
        back_populates="adjustments", foreign_keys=[applied_payout_id]
    )

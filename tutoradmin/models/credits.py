"""The student credit ledger: balance = credits − debits."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import Choices, UTCDateTime, utcnow


class CreditKind(Choices):
    CREDIT = "credit"
    DEBIT = "debit"


class CreditEntry(db.Model):
    """One line of a student's credit ledger; amounts are positive, the kind gives the sign."""

    __tablename__ = "credit_entries"
    __table_args__ = (
        CreditKind.check("kind", "kind_allowed"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("reason <> ''", name="reason_required"),
        Index("ix_credit_entries_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(10))
    amount_cents: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped["User"] = relationship(foreign_keys=[user_id])  # noqa: F821

    @property
    def signed_cents(self):
        return self.amount_cents if self.kind == CreditKind.CREDIT else -self.amount_cents

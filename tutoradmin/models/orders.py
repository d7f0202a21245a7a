"""Orders, their items, card payments and refunds."""

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import Choices, UTCDateTime, duration_check, utcnow


class OrderStatus(Choices):
    PENDING = "pending"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    FAILED = "failed"


ORDER_STATUS_LABELS = {
    OrderStatus.PENDING: "En attente",
    OrderStatus.PAID: "Payée",
    OrderStatus.PARTIALLY_REFUNDED: "Remboursée en partie",
    OrderStatus.REFUNDED: "Remboursée",
    OrderStatus.FAILED: "Échouée",
}


class Order(db.Model):
    """A purchase of sessions: cart total, less coupon, less credit, is paid by card."""

    __tablename__ = "orders"
    __table_args__ = (
        OrderStatus.check("status", "status_allowed"),
        CheckConstraint(
            "subtotal_cents >= 0 AND discount_cents >= 0 AND credit_cents >= 0 AND total_cents >= 0",
            name="amounts_not_negative",
        ),
        CheckConstraint("total_cents = subtotal_cents - discount_cents - credit_cents", name="total_consistent"),
        CheckConstraint("currency = 'CAD'", name="currency_cad"),
        CheckConstraint("status = 'pending' OR status = 'failed' OR paid_at IS NOT NULL", name="paid_has_date"),
        Index("ix_orders_status_paid_at", "status", "paid_at"),
        # The order lists show the latest orders first.
        Index("ix_orders_created_at", "created_at"),
        Index("uq_orders_receipt_number", "receipt_number", unique=True),
        # The overview's flagged orders: a handful of rows among all orders.
        Index(
            "ix_orders_flagged_at",
            "flagged_at",
            sqlite_where=text("flagged_at IS NOT NULL"),
            postgresql_where=text("flagged_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    cart_id: Mapped[int | None] = mapped_column(ForeignKey("carts.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.PENDING.value)
    subtotal_cents: Mapped[int] = mapped_column(Integer)
    discount_cents: Mapped[int] = mapped_column(Integer, default=0)
    credit_cents: Mapped[int] = mapped_column(Integer, default=0)
    # What the card pays.
    total_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="CAD")
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupons.id", ondelete="RESTRICT"))
    billing_first_name: Mapped[str] = mapped_column(String(100), default="")
    billing_last_name: Mapped[str] = mapped_column(String(100), default="")
    billing_email: Mapped[str] = mapped_column(String(254), default="")
    billing_phone: Mapped[str] = mapped_column(String(40), default="")
    billing_address: Mapped[str] = mapped_column(String(255), default="")
    billing_city: Mapped[str] = mapped_column(String(100), default="")
    billing_province: Mapped[str] = mapped_column(String(2), default="QC")
    billing_postal_code: Mapped[str] = mapped_column(String(10), default="")
    billing_country: Mapped[str] = mapped_column(String(2), default="CA")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Something staff must look at (a dispute, a refund made or failed at the gateway); cleared by staff.
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    flag_reason: Mapped[str | None] = mapped_column(Text)
    # « 2026-00042 »: numbered without gaps within each year when the order is paid (ReceiptCounter).
    receipt_number: Mapped[str | None] = mapped_column(String(20))

    user: Mapped["User"] = relationship()  # noqa: F821
    coupon: Mapped["Coupon | None"] = relationship()  # noqa: F821
    items: Mapped[list["OrderItem"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.starts_at"
    )
    payments: Mapped[list["Payment"]] = relationship(back_populates="order", order_by="Payment.id")
    refunds: Mapped[list["Refund"]] = relationship(back_populates="order", order_by="Refund.id")

    def __str__(self):
        return f"Commande #{self.id}"


class OrderItem(db.Model):
    """One session bought: its price, its share of the discount and credit, the tutor's pay."""

    __tablename__ = "order_items"
    __table_args__ = (
        duration_check(),
        CheckConstraint("ends_at > starts_at", name="end_after_start"),
        CheckConstraint("price_cents > 0", name="price_positive"),
        CheckConstraint(
            "discount_cents >= 0 AND credit_cents >= 0 AND discount_cents + credit_cents <= price_cents",
            name="shares_within_price",
        ),
        CheckConstraint("tutor_earnings_cents >= 0", name="earnings_not_negative"),
        # Covering indexes: the revenue report joins items to payments and to sessions in
        # index order, without reading the table (reports.py).
        Index(
            "ix_order_items_order_shares",
            "order_id",
            "course_id",
            "tutor_id",
            "price_cents",
            "discount_cents",
            "credit_cents",
        ),
        Index("ix_order_items_earnings", "id", "course_id", "tutor_id", "tutor_earnings_cents"),
        Index(
            "ix_order_items_flagged_at",
            "order_id",
            "flagged_at",
            sqlite_where=text("flagged_at IS NOT NULL"),
            postgresql_where=text("flagged_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="RESTRICT"), index=True)
    tutor_id: Mapped[int] = mapped_column(ForeignKey("tutors.id", ondelete="RESTRICT"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    price_cents: Mapped[int] = mapped_column(Integer)
    discount_cents: Mapped[int] = mapped_column(Integer, default=0)
    credit_cents: Mapped[int] = mapped_column(Integer, default=0)
    tutor_earnings_cents: Mapped[int] = mapped_column(Integer)
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("holds.id", ondelete="SET NULL"))
    # Set when the slot was lost before payment arrived (refunded automatically, shown to staff).
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    flag_reason: Mapped[str | None] = mapped_column(Text)

    order: Mapped[Order] = relationship(back_populates="items")
    course: Mapped["Course"] = relationship()  # noqa: F821
    tutor: Mapped["Tutor"] = relationship()  # noqa: F821
    appointment: Mapped["Appointment | None"] = relationship(back_populates="order_item")  # noqa: F821

    @property
    def paid_cents(self):
        """What the student paid for this session, by card or credit."""
        return self.price_cents - self.discount_cents

    @hybrid_property
    def card_cents(self):
        """What the card paid for this session (its price less its shares of the coupon and the credit)."""
        return self.price_cents - self.discount_cents - self.credit_cents


class PaymentStatus(Choices):
    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


PAYMENT_STATUS_LABELS = {
    PaymentStatus.PENDING: "En attente",
    PaymentStatus.REQUIRES_ACTION: "Authentification requise",
    PaymentStatus.SUCCEEDED: "Réussi",
    PaymentStatus.FAILED: "Échoué",
    PaymentStatus.CANCELED: "Annulé",
}


class Payment(db.Model):
    """A card payment attempt at the gateway (a PaymentIntent)."""

    __tablename__ = "payments"
    __table_args__ = (
        PaymentStatus.check("status", "status_allowed"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("provider IN ('stripe', 'simulated')", name="provider_allowed"),
        CheckConstraint("status <> 'succeeded' OR succeeded_at IS NOT NULL", name="succeeded_has_date"),
        # Both cover the revenue report's reads of payments (reports.py).
        Index("ix_payments_status_succeeded_at", "status", "succeeded_at", "amount_cents"),
        Index("ix_payments_order_succeeded", "order_id", "status", "succeeded_at", "amount_cents"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"))
    provider: Mapped[str] = mapped_column(String(20))
    gateway_payment_id: Mapped[str] = mapped_column(String(255), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=PaymentStatus.PENDING.value)
    failure_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship(back_populates="payments")


class RefundStatus(Choices):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


REFUND_STATUS_LABELS = {
    RefundStatus.PENDING: "En attente",
    RefundStatus.SUCCEEDED: "Effectué",
    RefundStatus.FAILED: "Échoué",
}


class Refund(db.Model):
    """Money returned to the card for an order, in full or in part."""

    __tablename__ = "refunds"
    __table_args__ = (
        RefundStatus.check("status", "status_allowed"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        Index("ix_refunds_status_processed_at", "status", "processed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"))
    amount_cents: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=RefundStatus.PENDING.value)
    gateway_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # Derived from our own ids so that a double submit reaches the gateway once.
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    failure_message: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship(back_populates="refunds")
    created_by: Mapped["User | None"] = relationship()  # noqa: F821
    items: Mapped[list["RefundItem"]] = relationship(back_populates="refund", cascade="all, delete-orphan")


class RefundItem(db.Model):
    """The part of a refund attributed to one order item, and whether its session is cancelled."""

    __tablename__ = "refund_items"
    __table_args__ = (
        UniqueConstraint("refund_id", "order_item_id"),
        CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.id", ondelete="CASCADE"))
    order_item_id: Mapped[int] = mapped_column(ForeignKey("order_items.id", ondelete="RESTRICT"), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    cancels_appointment: Mapped[bool] = mapped_column(Boolean, default=True)

    refund: Mapped[Refund] = relationship(back_populates="items")
    order_item: Mapped[OrderItem] = relationship()


class DisputeStatus(Choices):
    """Stripe's dispute statuses, stored as the gateway reports them."""

    WARNING_NEEDS_RESPONSE = "warning_needs_response"
    WARNING_UNDER_REVIEW = "warning_under_review"
    WARNING_CLOSED = "warning_closed"
    NEEDS_RESPONSE = "needs_response"
    UNDER_REVIEW = "under_review"
    WON = "won"
    LOST = "lost"


DISPUTE_STATUS_LABELS = {
    DisputeStatus.WARNING_NEEDS_RESPONSE: "Avertissement : réponse attendue",
    DisputeStatus.WARNING_UNDER_REVIEW: "Avertissement : en examen",
    DisputeStatus.WARNING_CLOSED: "Avertissement clos",
    DisputeStatus.NEEDS_RESPONSE: "Réponse attendue",
    DisputeStatus.UNDER_REVIEW: "En examen",
    DisputeStatus.WON: "Gagné",
    DisputeStatus.LOST: "Perdu",
}


class Dispute(db.Model):
    """A card payment contested by the cardholder with their bank (a chargeback), as the gateway reports it."""

    __tablename__ = "disputes"
    __table_args__ = (
        DisputeStatus.check("status", "status_allowed"),
        CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"))
    gateway_dispute_id: Mapped[str] = mapped_column(String(255), unique=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship()


class ReceiptCounter(db.Model):
    """The last receipt number given in a year; bumped with an UPDATE, so two payments never share one."""

    __tablename__ = "receipt_counters"
    __table_args__ = (
        CheckConstraint("last_number >= 0", name="last_number_not_negative"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_within_business_years"),
    )

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)

"""Inbound gateway events, the outbound event outbox and the audit log."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import Choices, UTCDateTime, utcnow


class GatewayEvent(db.Model):
    """A webhook event received from the payment gateway, recorded once by its id."""

    __tablename__ = "gateway_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    event_type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)


class OutboxEventType(Choices):
    SIGNUP = "signup"
    PASSWORD_RESET_REQUESTED = "password.reset_requested"
    BOOKING_CREATED = "booking.created"
    BOOKING_CANCELLED = "booking.cancelled"
    BOOKING_RESCHEDULED = "booking.rescheduled"
    BOOKING_REMINDER = "booking.reminder"
    BOOKING_ATTENDANCE = "booking.attendance"
    TICKET_CREATED = "ticket.created"
    TICKET_REPLIED = "ticket.replied"
    MESSAGE_SENT = "message.sent"
    REFUND_PROCESSED = "refund.processed"
    PAYOUT_PAID = "payout.paid"
    TUTOR_AVAILABILITY_UPDATED = "tutor.availability.updated"
    TUTOR_RATE_UPDATED = "tutor.rate.updated"
    COURSE_CREATED = "course.created"

    @property
    def family(self):
        """The group of automation scenarios the event goes to (OUTBOX_WEBHOOK_URL_<FAMILY> overrides its URL)."""
        return EVENT_FAMILIES[self]


#: Make.com scenarios are split by family; each family may have its own webhook URL.
EVENT_FAMILIES = {
    OutboxEventType.SIGNUP: "ACCOUNT",
    OutboxEventType.PASSWORD_RESET_REQUESTED: "ACCOUNT",
    OutboxEventType.BOOKING_CREATED: "BOOKING",
    OutboxEventType.BOOKING_CANCELLED: "BOOKING",
    OutboxEventType.BOOKING_RESCHEDULED: "BOOKING",
    OutboxEventType.BOOKING_REMINDER: "BOOKING",
    OutboxEventType.BOOKING_ATTENDANCE: "BOOKING",
    OutboxEventType.TICKET_CREATED: "TICKET",
    OutboxEventType.TICKET_REPLIED: "TICKET",
    OutboxEventType.MESSAGE_SENT: "MESSAGE",
    OutboxEventType.REFUND_PROCESSED: "PAYMENT",
    OutboxEventType.PAYOUT_PAID: "TUTOR",
    OutboxEventType.TUTOR_AVAILABILITY_UPDATED: "TUTOR",
    OutboxEventType.TUTOR_RATE_UPDATED: "TUTOR",
    OutboxEventType.COURSE_CREATED: "COURSE",
}
EVENT_FAMILY_NAMES = ("ACCOUNT", "BOOKING", "TICKET", "MESSAGE", "PAYMENT", "TUTOR", "COURSE")

OUTBOX_EVENT_TYPE_LABELS = {
    OutboxEventType.SIGNUP: "Inscription",
    OutboxEventType.PASSWORD_RESET_REQUESTED: "Mot de passe oublié",
    OutboxEventType.BOOKING_CREATED: "Réservation confirmée",
    OutboxEventType.BOOKING_CANCELLED: "Séance annulée",
    OutboxEventType.BOOKING_RESCHEDULED: "Séance déplacée",
    OutboxEventType.BOOKING_REMINDER: "Rappel de séance",
    OutboxEventType.BOOKING_ATTENDANCE: "Présence notée",
    OutboxEventType.TICKET_CREATED: "Billet ouvert",
    OutboxEventType.TICKET_REPLIED: "Réponse à un billet",
    OutboxEventType.MESSAGE_SENT: "Message",
    OutboxEventType.REFUND_PROCESSED: "Remboursement",
    OutboxEventType.PAYOUT_PAID: "Paie de tuteur",
    OutboxEventType.TUTOR_AVAILABILITY_UPDATED: "Disponibilités modifiées",
    OutboxEventType.TUTOR_RATE_UPDATED: "Taux horaire modifié",
    OutboxEventType.COURSE_CREATED: "Nouveau cours",
}


class OutboxStatus(Choices):
    PENDING = "pending"
    DELIVERED = "delivered"
    #: Retried for 24 hours without success.
    FAILED = "failed"
    #: The receiver answered 410 Gone: it wants no more of this event.
    STOPPED = "stopped"


OUTBOX_STATUS_LABELS = {
    OutboxStatus.PENDING: "En attente",
    OutboxStatus.DELIVERED: "Livré",
    OutboxStatus.FAILED: "Échec",
    OutboxStatus.STOPPED: "Refusé (410)",
}


class OutboxEvent(db.Model):
    """An event for the automation platform, written with the change it describes."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        OutboxEventType.check("event_type", "type_allowed"),
        OutboxStatus.check("status", "status_allowed"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("status <> 'delivered' OR delivered_at IS NOT NULL", name="delivered_has_date"),
        CheckConstraint("(claim_token IS NULL) = (claimed_until IS NULL)", name="claim_complete"),
        Index("ix_outbox_events_status_next", "status", "next_attempt_at"),
        Index("ix_outbox_events_ordering", "ordering_key", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_type: Mapped[str] = mapped_column(String(40))
    # Makes emitting the same business event twice a no-op (e.g. "booking.created:order:42").
    dedupe_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Events sharing a key (e.g. "student:7" for one student's bookings) are delivered in the order written.
    ordering_key: Mapped[str | None] = mapped_column(String(80))
    # A worker's claim: no other worker sends the event before `claimed_until`, even if this one crashed.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditLog(db.Model):
    """Who did which sensitive thing, when, with the values before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str] = mapped_column(String(60))
    target_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    actor: Mapped["User | None"] = relationship()  # noqa: F821

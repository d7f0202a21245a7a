"""Support tickets and their messages."""

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import Choices, UTCDateTime, utcnow


class TicketCategory(Choices):
    BOOKING = "reservation"
    PAYMENT = "paiement"
    TECHNICAL = "technique"
    ACCOUNT = "compte"
    OTHER = "autre"


TICKET_CATEGORY_LABELS = {
    TicketCategory.BOOKING: "Réservation",
    TicketCategory.PAYMENT: "Paiement",
    TicketCategory.TECHNICAL: "Technique",
    TicketCategory.ACCOUNT: "Compte",
    TicketCategory.OTHER: "Autre",
}


class TicketPriority(Choices):
    LOW = "basse"
    MEDIUM = "moyenne"
    HIGH = "haute"
    URGENT = "urgente"


TICKET_PRIORITY_LABELS = {
    TicketPriority.LOW: "Basse",
    TicketPriority.MEDIUM: "Moyenne",
    TicketPriority.HIGH: "Haute",
    TicketPriority.URGENT: "Urgente",
}


class TicketStatus(Choices):
    OPEN = "ouvert"
    IN_PROGRESS = "en_cours"
    RESOLVED = "resolu"
    CLOSED = "ferme"


TICKET_STATUS_LABELS = {
    TicketStatus.OPEN: "Ouvert",
    TicketStatus.IN_PROGRESS: "En cours",
    TicketStatus.RESOLVED: "Résolu",
    TicketStatus.CLOSED: "Fermé",
}


class Ticket(db.Model):
    __tablename__ = "tickets"
    __table_args__ = (
        TicketCategory.check("category", "category_allowed"),
        TicketPriority.check("priority", "priority_allowed"),
        TicketStatus.check("status", "status_allowed"),
        CheckConstraint("subject <> ''", name="subject_required"),
        Index("ix_tickets_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20), default=TicketCategory.OTHER.value)
    priority: Mapped[str] = mapped_column(String(20), default=TicketPriority.MEDIUM.value)
    status: Mapped[str] = mapped_column(String(20), default=TicketStatus.OPEN.value)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id", ondelete="SET NULL"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # The last message the student has seen: later replies from the office show as unread on their list.
    student_read_message_id: Mapped[int | None] = mapped_column(Integer)

    student: Mapped["User"] = relationship(foreign_keys=[student_id])  # noqa: F821
    assignee: Mapped["User | None"] = relationship(foreign_keys=[assignee_id])  # noqa: F821
    messages: Mapped[list["TicketMessage"]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="TicketMessage.id"
    )

    def __str__(self):
        return f"#{self.id} {self.subject}"


class TicketMessage(db.Model):
    """A reply visible to the student, or an internal note that is not."""

    __tablename__ = "ticket_messages"
    __table_args__ = (CheckConstraint("body <> ''", name="body_required"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    body: Mapped[str] = mapped_column(Text)
    is_internal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    author: Mapped["User"] = relationship()  # noqa: F821
    attachments: Mapped[list["Attachment"]] = relationship(  # noqa: F821
        back_populates="ticket_message", order_by="Attachment.position"
    )

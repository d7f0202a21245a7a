"""Support tickets: replies to the student, internal notes, and what counts as unanswered (SPEC §9)."""

from sqlalchemy import and_, exists, func, select

from . import outbox
from .errors import DomainError
from .extensions import db
from .models import OutboxEventType, Role, Ticket, TicketMessage, TicketStatus, User

OPEN_STATUSES = (TicketStatus.OPEN.value, TicketStatus.IN_PROGRESS.value)


class SupportError(DomainError):
    """A reply refused; the message is for the office."""


def staff_replied():
    """SQL condition: someone from the office has written to the student on this ticket."""
    return exists().where(
        TicketMessage.ticket_id == Ticket.id,
        TicketMessage.is_internal.is_(False),
        TicketMessage.author_id == User.id,
        User.role.in_([Role.ADMIN.value, Role.STAFF.value]),
    )


def unanswered():
    """SQL condition: an open ticket still waiting for the office's first reply."""
    return and_(Ticket.status.in_(OPEN_STATUSES), ~staff_replied())


def unanswered_count():
    return db.session.scalar(select(func.count()).select_from(Ticket).where(unanswered()))


def reply(ticket, author, body, internal, now):
    """Add a reply the student sees, or an internal note they don't; the caller commits."""
    body = (body or "").strip()
    if not body:
        raise SupportError("Écrivez un message.")
    if ticket.status == TicketStatus.CLOSED and not internal:
        raise SupportError("Ce billet est fermé : rouvrez-le avant de répondre à l'étudiant.")
    message = TicketMessage(ticket=ticket, author_id=author.id, body=body, is_internal=bool(internal), created_at=now)
    db.session.add(message)
    ticket.updated_at = now
    if not internal:
        if ticket.status == TicketStatus.OPEN:
            ticket.status = TicketStatus.IN_PROGRESS.value
        db.session.flush()
        outbox.emit(
            OutboxEventType.TICKET_REPLIED,
            {
                "ticket_id": ticket.id,
                "subject": ticket.subject,
                "email": ticket.student.email,
                "first_name": ticket.student.first_name,
                "message": body,
            },
            f"ticket.replied:message:{message.id}",
            now,
        )
    return message

"""Support tickets: replies to the student, internal notes, and what counts as unanswered (SPEC §9)."""

from sqlalchemy import and_, exists, func, select

from . import events, outbox
from .errors import DomainError
from .extensions import db
from .models import OutboxEventType, Role, Ticket, TicketCategory, TicketMessage, TicketStatus, User

OPEN_STATUSES = (TicketStatus.OPEN.value, TicketStatus.IN_PROGRESS.value)
SUBJECT_MAX_LENGTH = 200


class SupportError(DomainError):
    """A ticket or reply refused; the message is for whoever wrote it."""


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
            events.ticket_replied(ticket, message),
            f"ticket.replied:message:{message.id}",
            now,
            ordering_key=f"ticket:{ticket.id}",
        )
    return message


def open_ticket(student, category, subject, body, now, appointment=None, order=None):
    """A student's new ticket with its first message; the office is told (`ticket.created`). The caller commits."""
    subject, body = (subject or "").strip(), (body or "").strip()
    if not subject:
        raise SupportError("Indiquez le sujet de votre demande.")
    if len(subject) > SUBJECT_MAX_LENGTH:
        raise SupportError(f"Le sujet ne peut dépasser {SUBJECT_MAX_LENGTH} caractères.")
    if not body:
        raise SupportError("Écrivez un message.")
    if str(category) not in TicketCategory.values():
        raise SupportError("Choisissez une catégorie.")
    if appointment is not None and appointment.student_id != student.id:
        raise SupportError("Cette séance n'est pas l'une des vôtres.")
    if order is not None and order.user_id != student.id:
        raise SupportError("Cette commande n'est pas l'une des vôtres.")
    ticket = Ticket(
        student_id=student.id,
        category=str(category),
        subject=subject,
        appointment_id=getattr(appointment, "id", None),
        order_id=getattr(order, "id", None),
        created_at=now,
        updated_at=now,
    )
    message = TicketMessage(ticket=ticket, author_id=student.id, body=body, created_at=now)
    db.session.add_all([ticket, message])
    db.session.flush()
    outbox.emit(
        OutboxEventType.TICKET_CREATED,
        events.ticket_created(ticket, message),
        f"ticket.created:ticket:{ticket.id}",
        now,
        ordering_key=f"ticket:{ticket.id}",
    )
    return ticket

"""Support tickets: the student's side and the office's, and what counts as unanswered or unread (SPEC §8b, §9)."""

from sqlalchemy import and_, exists, func, select, type_coerce
from sqlalchemy.orm import joinedload, selectinload

from . import attachments, events, outbox
from .errors import DomainError
from .extensions import db
from .models import (
    MESSAGE_MAX_LENGTH,
    Appointment,
    Order,
    OutboxEventType,
    Ticket,
    TicketCategory,
    TicketMessage,
    TicketStatus,
)
from .models.types import UTCDateTime

OPEN_STATUSES = (TicketStatus.OPEN.value, TicketStatus.IN_PROGRESS.value)
SUBJECT_MAX_LENGTH = 200
NOT_YOUR_SESSION = "Cette séance n'est pas l'une des vôtres."
NOT_YOUR_ORDER = "Cette commande n'est pas l'une des vôtres."


class SupportError(DomainError):
    """A ticket or reply refused; the message is for whoever wrote it."""


class TicketClosed(SupportError):
    """A message on a closed ticket: the conversation is over."""


def _public():
    return TicketMessage.is_internal.is_(False)


def _last_public_author():
    """SQL: the author of the ticket's latest message the student can see (None before the first one)."""
    return (
        select(TicketMessage.author_id)
        .where(TicketMessage.ticket_id == Ticket.id, _public())
        .order_by(TicketMessage.id.desc())
        .limit(1)
        .correlate(Ticket)
        .scalar_subquery()
    )


def unanswered():
    """SQL condition: an open ticket whose latest public message is the student's — the office owes a reply."""
    return and_(
        Ticket.status.in_(OPEN_STATUSES),
        func.coalesce(_last_public_author(), Ticket.student_id) == Ticket.student_id,
    )


def is_unanswered(ticket):
    return db.session.scalar(select(Ticket.id).where(Ticket.id == ticket.id, unanswered())) is not None


def unanswered_count():
    return db.session.scalar(select(func.count()).select_from(Ticket).where(unanswered()))


def unread_by_student():
    """SQL condition: the office wrote to the student after the last message the student has seen."""
    return exists().where(
        TicketMessage.ticket_id == Ticket.id,
        _public(),
        TicketMessage.author_id != Ticket.student_id,
        TicketMessage.id > func.coalesce(Ticket.student_read_message_id, 0),
    )


def unread_ticket_count(student_id):
    """How many of the student's tickets have a reply from the office they have not read."""
    return db.session.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.student_id == student_id, unread_by_student())
    )


def student_tickets(student_id):
    """SQL: the student's tickets as (ticket, last activity, unread), the most recent activity first.

    The last activity is the latest message the student can see: internal notes and the office's
    edits (priority, assignee) are not news to them.
    """
    latest = (
        select(func.max(TicketMessage.created_at))
        .where(TicketMessage.ticket_id == Ticket.id, _public())
        .correlate(Ticket)
        .scalar_subquery()
    )
    activity = type_coerce(func.coalesce(latest, Ticket.created_at), UTCDateTime)
    return (
        select(Ticket, activity.label("last_activity"), unread_by_student().label("unread"))
        .where(Ticket.student_id == student_id)
        .order_by(activity.desc(), Ticket.id.desc())
    )


def student_ticket(student_id, ticket_id):
    """One of the student's tickets, or None (another student's ticket does not exist for them)."""
    return db.session.scalar(select(Ticket).where(Ticket.id == ticket_id, Ticket.student_id == student_id))


def public_messages(ticket):
    """The conversation as the student sees it: their messages and the office's replies, never internal notes."""
    return db.session.scalars(
        select(TicketMessage)
        .where(TicketMessage.ticket_id == ticket.id, _public())
        .order_by(TicketMessage.id)
        .options(selectinload(TicketMessage.attachments))
    ).all()


def load_conversation(ticket):
    """`ticket` with every message, its author and files loaded at once: a fixed number of statements."""
    db.session.execute(
        select(Ticket)
        .where(Ticket.id == ticket.id)
        .options(
            selectinload(Ticket.messages).options(
                joinedload(TicketMessage.author), selectinload(TicketMessage.attachments)
            )
        )
    ).all()
    return ticket


def linkable_sessions(student_id):
    """The sessions a student may name on a ticket: their own, the latest first."""
    return db.session.scalars(
        select(Appointment)
        .where(Appointment.student_id == student_id)
        .order_by(Appointment.starts_at.desc(), Appointment.id.desc())
        .options(selectinload(Appointment.course))
    ).all()


def linkable_orders(student_id):
    """The orders a student may name on a ticket: their own, in any status (a failed payment is worth a ticket)."""
    return db.session.scalars(
        select(Order).where(Order.user_id == student_id).order_by(Order.created_at.desc(), Order.id.desc())
    ).all()


def new_from_student(ticket):
    """Ids of the student's messages since the office's last reply to them: what the office has yet to answer."""
    public = [m for m in ticket.messages if not m.is_internal]
    last_reply = max((m.id for m in public if m.author_id != ticket.student_id), default=0)
    return {m.id for m in public if m.author_id == ticket.student_id and m.id > last_reply}


def _body(body):
    # Browsers send line breaks as CRLF: count them as the one character the student typed.
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise SupportError("Écrivez un message.")
    if len(body) > MESSAGE_MAX_LENGTH:
        raise SupportError(f"Le message ne peut dépasser {MESSAGE_MAX_LENGTH} caractères.")
    return body


def _attach(uploads, message, uploader, now):
    if uploads:
        db.session.add_all(attachments.attach(uploads, message=message, uploader=uploader, now=now))


def _announce_reply(ticket, message, now):
    """`ticket.replied`, to the student or to the office depending on who wrote; once per message."""
    db.session.flush()
    outbox.emit(
        OutboxEventType.TICKET_REPLIED,
        events.ticket_replied(ticket, message),
        f"ticket.replied:message:{message.id}",
        now,
        ordering_key=f"ticket:{ticket.id}",
    )


def reply(ticket, author, body, internal, now, uploads=()):
    """Add a reply the student sees, or an internal note they don't, with its files; the caller commits."""
    body = _body(body)
    if ticket.status == TicketStatus.CLOSED and not internal:
        raise TicketClosed("Ce billet est fermé : rouvrez-le avant de répondre à l'étudiant.")
    message = TicketMessage(ticket=ticket, author_id=author.id, body=body, is_internal=bool(internal), created_at=now)
    db.session.add(message)
    _attach(uploads, message, author, now)
    ticket.updated_at = now
    if not internal:
        if ticket.status == TicketStatus.OPEN:
            ticket.status = TicketStatus.IN_PROGRESS.value
        _announce_reply(ticket, message, now)
    return message


def student_reply(ticket, student, body, now, uploads=()):
    """The student writes on their ticket: a resolved ticket opens again, and the office is told. The caller commits."""
    if ticket.student_id != student.id:
        raise SupportError("Ce billet n'est pas l'un des vôtres.")
    if ticket.status == TicketStatus.CLOSED:
        raise TicketClosed("Ce billet est fermé : ouvrez un nouveau billet si vous avez encore besoin d'aide.")
    message = TicketMessage(ticket=ticket, author_id=student.id, body=_body(body), created_at=now)
    db.session.add(message)
    _attach(uploads, message, student, now)
    ticket.updated_at = now
    if ticket.status == TicketStatus.RESOLVED:
        ticket.status = TicketStatus.OPEN.value
    _announce_reply(ticket, message, now)
    return message


def close_by_student(ticket, student, now):
    """The student closes their ticket (closing it again changes nothing). The caller commits."""
    if ticket.student_id != student.id:
        raise SupportError("Ce billet n'est pas l'un des vôtres.")
    if ticket.status != TicketStatus.CLOSED:
        ticket.status = TicketStatus.CLOSED.value
        ticket.updated_at = now


def mark_read_by_student(ticket):
    """The student has seen every message of the conversation (their list stops showing it as unread)."""
    last = db.session.scalar(select(func.max(TicketMessage.id)).where(TicketMessage.ticket_id == ticket.id, _public()))
    if last is not None and (ticket.student_read_message_id or 0) < last:
        ticket.student_read_message_id = last


def open_ticket(student, category, subject, body, now, appointment=None, order=None, uploads=()):
    """A student's new ticket with its first message and files; the office is told (`ticket.created`)."""
    subject = (subject or "").strip()
    if not subject:
        raise SupportError("Indiquez le sujet de votre demande.")
    if len(subject) > SUBJECT_MAX_LENGTH:
        raise SupportError(f"Le sujet ne peut dépasser {SUBJECT_MAX_LENGTH} caractères.")
    body = _body(body)
    if str(category) not in TicketCategory.values():
        raise SupportError("Choisissez une catégorie.")
    if appointment is not None and appointment.student_id != student.id:
        raise SupportError(NOT_YOUR_SESSION)
    if order is not None and order.user_id != student.id:
        raise SupportError(NOT_YOUR_ORDER)
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
    _attach(uploads, message, student, now)
    db.session.flush()
    outbox.emit(
        OutboxEventType.TICKET_CREATED,
        events.ticket_created(ticket, message),
        f"ticket.created:ticket:{ticket.id}",
        now,
        ordering_key=f"ticket:{ticket.id}",
    )
    return ticket

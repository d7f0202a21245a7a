"""Conversations about a session between its student and its tutor: who reads, who writes, what is unread (SPEC §8b).

A session has one conversation. Its participants are the session's student and the user of its tutor
as they are now: a session moved to another tutor is discussed with the new one. The office (staff and
administrators) reads every conversation without taking part, and its reading is never recorded.
"""

from datetime import timedelta

from sqlalchemy import and_, false, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from . import attachments, audit, events, outbox
from .errors import DomainError
from .extensions import db
from .models import (
    MESSAGE_MAX_LENGTH,
    Appointment,
    ConversationRead,
    OutboxEventType,
    Role,
    SessionMessage,
    Tutor,
    User,
)

# The participants' rule lives apart: attachments.py checks downloads with it, and messaging.py uses attachments.py.
from .participants import is_participant

#: Participants may write until this many days after the session's end; reading stays open for ever.
WRITE_DAYS = 30
WRITE_WINDOW = timedelta(days=WRITE_DAYS)
HIDE_REASON_MAX_LENGTH = 500
#: What the participants see instead of a message the office hid.
HIDDEN_TEXT = "Message masqué par l'équipe"
MODERATORS = (Role.ADMIN, Role.STAFF)


class MessagingError(DomainError):
    """A message refused; the text says why, to whoever wrote it."""


def _thousands(number):
    return f"{number:,}".replace(",", "\u00a0")


# --- who takes part -----------------------------------------------------------------------------


def is_moderator(user):
    return str(user.role) in MODERATORS


def can_read(user, appointment):
    """The two participants and the office; not the accountant, other tutors or other students."""
    return is_participant(user, appointment) or is_moderator(user)


def writing_closes_at(appointment):
    return appointment.ends_at + WRITE_WINDOW


def can_write(user, appointment, now):
    """The two participants, until WRITE_DAYS after the session's end (cancelled sessions included)."""
    return is_participant(user, appointment) and now <= writing_closes_at(appointment)


def recipient(appointment, author):
    """The other participant."""
    return appointment.tutor.user if author.id == appointment.student_id else appointment.student


# --- reading ------------------------------------------------------------------------------------


def conversation(appointment):
    """The session's messages, oldest first, with their authors and files (a fixed number of queries)."""
    return db.session.scalars(
        select(SessionMessage)
        .where(SessionMessage.appointment_id == appointment.id)
        .order_by(SessionMessage.id)
        .options(
            selectinload(SessionMessage.author).selectinload(User.tutor_profile),
            selectinload(SessionMessage.attachments),
        )
    ).all()


def _participating(user):
    """SQL condition on Appointment: `user` is one side of its conversation."""
    if str(user.role) == Role.STUDENT:
        return Appointment.student_id == user.id
    if str(user.role) == Role.TUTOR:
        return Appointment.tutor_id.in_(select(Tutor.id).where(Tutor.user_id == user.id))
    return false()


def _unread(user, *columns):
    """SELECT `columns` over the messages `user` has not read yet: from the other side, not hidden, after their mark."""
    return (
        select(*columns)
        .select_from(SessionMessage)
        .join(Appointment, Appointment.id == SessionMessage.appointment_id)
        .outerjoin(
            ConversationRead,
            and_(
                ConversationRead.appointment_id == SessionMessage.appointment_id,
                ConversationRead.user_id == user.id,
            ),
        )
        .where(
            _participating(user),
            SessionMessage.author_id != user.id,
            SessionMessage.hidden_at.is_(None),
            SessionMessage.id > func.coalesce(ConversationRead.last_read_message_id, 0),
        )
    )


def unread_counts(user, appointment_ids):
    """{appointment id: unread messages} for those of `appointment_ids` with any (one query)."""
    ids = list(appointment_ids)
    if not ids:
        return {}
    query = _unread(user, SessionMessage.appointment_id, func.count()).where(SessionMessage.appointment_id.in_(ids))
    return dict(db.session.execute(query.group_by(SessionMessage.appointment_id)).all())


def unread_total(user):
    """Unread messages over all of `user`'s sessions (one query)."""
    return db.session.scalar(_unread(user, func.count()))


def unread_conversations(user, limit=20):
    """[(appointment, unread count)] of `user`'s sessions with unread messages, latest message first."""
    counts = (
        _unread(
            user,
            SessionMessage.appointment_id.label("appointment_id"),
            func.count().label("unread"),
            func.max(SessionMessage.id).label("latest"),
        )
        .group_by(SessionMessage.appointment_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Appointment, counts.c.unread)
        .join(counts, counts.c.appointment_id == Appointment.id)
        .order_by(counts.c.latest.desc())
        .limit(limit)
        .options(selectinload(Appointment.course), selectinload(Appointment.student))
    ).all()
    return [(appointment, unread) for appointment, unread in rows]


def mark_read(appointment, user, now, last_message_id=None):
    """Record that a participant has read up to `last_message_id` (default: the latest); others are ignored."""
    if not is_participant(user, appointment):
        return
    if last_message_id is None:
        last_message_id = db.session.scalar(
            select(func.max(SessionMessage.id)).where(SessionMessage.appointment_id == appointment.id)
        )
    if last_message_id is None:
        return
    # Two tabs may record at once: one insert wins, the other moves the mark forward (never back).
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(ConversationRead).values(
        appointment_id=appointment.id, user_id=user.id, last_read_message_id=last_message_id, read_at=now
    )
    db.session.execute(
        insert.on_conflict_do_update(
            index_elements=[ConversationRead.appointment_id, ConversationRead.user_id],
            set_={"last_read_message_id": insert.excluded.last_read_message_id, "read_at": insert.excluded.read_at},
            where=ConversationRead.last_read_message_id < insert.excluded.last_read_message_id,
        )
    )


# --- writing ------------------------------------------------------------------------------------


def clean_body(body):
    """The text as stored: line breaks as \\n, no surrounding blanks; refused when too long."""
    body = (body or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if "\x00" in body:
        raise MessagingError("Votre message contient un caractère invalide (caractère nul).")
    if len(body) > MESSAGE_MAX_LENGTH:
        raise MessagingError(
            f"Votre message compte {_thousands(len(body))} caractères : "
            f"{_thousands(MESSAGE_MAX_LENGTH)} au plus, raccourcissez-le."
        )
    return body


def send(appointment, author, body, now, uploads=()):
    """Add a participant's message (text and/or files), mark it read for them and tell the other side.

    The caller commits. `uploads` come from `attachments.read_uploads`.
    """
    if not is_participant(author, appointment):
        raise MessagingError("Seuls l'étudiant et le tuteur de cette séance peuvent y écrire.")
    if not can_write(author, appointment, now):
        raise MessagingError(
            f"Cette conversation est close : on peut y écrire jusqu'à {WRITE_DAYS} jours après la séance. "
            "Pour toute question, écrivez au soutien de 4AS."
        )
    body = clean_body(body)
    if not body and not uploads:
        raise MessagingError("Écrivez un message ou joignez un fichier.")
    message = SessionMessage(appointment=appointment, author=author, body=body, created_at=now)
    db.session.add(message)
    db.session.flush()
    if uploads:
        db.session.add_all(attachments.attach(uploads, message=message, uploader=author, now=now))
    mark_read(appointment, author, now, message.id)
    outbox.emit(
        OutboxEventType.MESSAGE_SENT,
        events.message_sent(message, recipient(appointment, author)),
        f"message.sent:message:{message.id}",
        now,
        ordering_key=f"appointment:{appointment.id}",
    )
    return message


# --- moderation ---------------------------------------------------------------------------------


def hide(message, actor, reason, now):
    """The office hides an abusive message, with a reason (audited); it stays for the office to read."""
    if not is_moderator(actor):
        raise MessagingError("Seule l'équipe de 4AS peut masquer un message.")
    reason = (reason or "").strip()
    if not reason:
        raise MessagingError("Indiquez pourquoi ce message est masqué.")
    if len(reason) > HIDE_REASON_MAX_LENGTH:
        raise MessagingError(f"Le motif ne peut dépasser {HIDE_REASON_MAX_LENGTH} caractères.")
    if message.hidden_at is not None:
        raise MessagingError("Ce message est déjà masqué.")
    message.hidden_at, message.hidden_by_id, message.hidden_reason = now, actor.id, reason
    audit.record(
        actor,
        "session_message.hidden",
        message,
        now,
        after={"appointment_id": message.appointment_id, "reason": reason},
    )
    return message

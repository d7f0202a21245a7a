"""Conversations about a session, what each side has read, and the files attached to messages (SPEC §8b)."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import Choices, UTCDateTime, utcnow

#: SPEC §8b: the longest message, the largest file and how many files one message carries.
MESSAGE_MAX_LENGTH = 5000
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENTS_PER_MESSAGE = 5


class AttachmentType(Choices):
    """The file types accepted, as recognised from their content (attachments.py)."""

    PDF = "application/pdf"
    PNG = "image/png"
    JPEG = "image/jpeg"
    HEIC = "image/heic"
    HEIF = "image/heif"
    DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    TEXT = "text/plain"


ATTACHMENT_TYPE_LABELS = {
    AttachmentType.PDF: "PDF",
    AttachmentType.PNG: "Image PNG",
    AttachmentType.JPEG: "Image JPEG",
    AttachmentType.HEIC: "Photo HEIC",
    AttachmentType.HEIF: "Photo HEIF",
    AttachmentType.DOCX: "Document Word",
    AttachmentType.XLSX: "Classeur Excel",
    AttachmentType.TEXT: "Texte",
}


class StorageBackend(Choices):
    """Where an attachment's bytes live (storage.py); every app server reaches both."""

    DATABASE = "database"
    S3 = "s3"


class SessionMessage(db.Model):
    """One message in the conversation between a session's student and its tutor.

    Never deleted (disputes need the history); the office may hide one, with a reason.
    """

    __tablename__ = "session_messages"
    __table_args__ = (
        CheckConstraint(f"length(body) <= {MESSAGE_MAX_LENGTH}", name="body_length"),
        CheckConstraint(
            "(hidden_at IS NULL AND hidden_reason IS NULL) OR (hidden_at IS NOT NULL AND hidden_reason <> '')",
            name="hidden_with_reason",
        ),
        Index("ix_session_messages_appointment_id", "appointment_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="RESTRICT"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    # May be empty when the message carries files (checked by messaging.py).
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    hidden_reason: Mapped[str | None] = mapped_column(Text)

    appointment: Mapped["Appointment"] = relationship()  # noqa: F821
    author: Mapped["User"] = relationship(foreign_keys=[author_id])  # noqa: F821
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="session_message", order_by="Attachment.position"
    )


class ConversationRead(db.Model):
    """How far one participant has read a session's conversation (the office's reading is not recorded)."""

    __tablename__ = "conversation_reads"

    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False, index=True
    )
    last_read_message_id: Mapped[int] = mapped_column(Integer)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Attachment(db.Model):
    """A file attached to a ticket message or a session message; its bytes are in `storage` under `storage_key`."""

    __tablename__ = "attachments"
    __table_args__ = (
        CheckConstraint(
            "(ticket_message_id IS NOT NULL AND session_message_id IS NULL)"
            " OR (ticket_message_id IS NULL AND session_message_id IS NOT NULL)",
            name="one_message",
        ),
        CheckConstraint(f"position BETWEEN 1 AND {ATTACHMENTS_PER_MESSAGE}", name="position_within_limit"),
        CheckConstraint(f"size_bytes BETWEEN 1 AND {ATTACHMENT_MAX_BYTES}", name="size_within_limit"),
        CheckConstraint("filename <> ''", name="filename_required"),
        AttachmentType.check("content_type", "content_type_allowed"),
        StorageBackend.check("storage", "storage_allowed"),
        Index("uq_attachments_ticket_message_position", "ticket_message_id", "position", unique=True),
        Index("uq_attachments_session_message_position", "session_message_id", "position", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_message_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_messages.id", ondelete="CASCADE"))
    session_message_id: Mapped[int | None] = mapped_column(ForeignKey("session_messages.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(SmallInteger)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage: Mapped[str] = mapped_column(String(20))
    storage_key: Mapped[str] = mapped_column(String(100), unique=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket_message: Mapped["TicketMessage | None"] = relationship(back_populates="attachments")  # noqa: F821
    session_message: Mapped[SessionMessage | None] = relationship(back_populates="attachments")


class AttachmentBlob(db.Model):
    """An attachment's bytes when they are kept in the database (the default storage)."""

    __tablename__ = "attachment_blobs"

    storage_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)

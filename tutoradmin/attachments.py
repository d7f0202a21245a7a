"""Files attached to ticket messages and session messages: what is accepted, where it goes, who downloads it (SPEC §8b).

A file is accepted for what its content is, never for its name: the bytes must be one of the allowed types
(PDF, PNG, JPEG, HEIC/HEIF, DOCX, XLSX, plain UTF-8 text) and the name's extension must say the same type.
Its bytes go to the configured storage (storage.py) under a random key; the original name is kept, cleaned,
for display and for the download's file name.
"""

import hashlib
import io
import posixpath
import unicodedata
import zipfile
from dataclasses import dataclass

import filetype

from . import participants, storage
from .errors import DomainError
from .extensions import db
from .models import (
    ATTACHMENT_MAX_BYTES,
    ATTACHMENT_TYPE_LABELS,
    ATTACHMENTS_PER_MESSAGE,
    Attachment,
    AttachmentType,
    Role,
    SessionMessage,
    TicketMessage,
)

#: The endpoints whose forms carry files: they alone accept large request bodies (request_limits.py).
UPLOAD_ENDPOINTS = {
    "public.new_ticket",
    "public.ticket",
    "public.session_messages",
    "my_appointments.messages",
    "tickets.reply",
}

#: The extensions each type may carry (lower case); a name with another extension is refused.
EXTENSIONS = {
    AttachmentType.PDF: (".pdf",),
    AttachmentType.PNG: (".png",),
    AttachmentType.JPEG: (".jpg", ".jpeg", ".jpe", ".jfif"),
    # Phones name HEIF photos either way.
    AttachmentType.HEIC: (".heic", ".heif"),
    AttachmentType.HEIF: (".heif", ".heic"),
    AttachmentType.DOCX: (".docx",),
    AttachmentType.XLSX: (".xlsx",),
    AttachmentType.TEXT: (".txt", ".text", ".csv", ".md"),
}
#: What a file of each type is called in a refusal: « … n'est pas {un PDF} valide. »
TYPE_NOUNS = {
    AttachmentType.PDF: "un PDF",
    AttachmentType.PNG: "une image PNG",
    AttachmentType.JPEG: "une image JPEG",
    AttachmentType.HEIC: "une photo HEIC",
    AttachmentType.HEIF: "une photo HEIF",
    AttachmentType.DOCX: "un document Word (.docx)",
    AttachmentType.XLSX: "un classeur Excel (.xlsx)",
    AttachmentType.TEXT: "un fichier texte",
}
#: The file picker's filter: extensions, and the types phones and browsers know.
ACCEPT = ",".join([*dict.fromkeys(ext for exts in EXTENSIONS.values() for ext in exts), *AttachmentType.values()])
ALLOWED_TYPES_TEXT = "PDF, images (PNG, JPEG, HEIC), Word (.docx), Excel (.xlsx) ou texte"
MAX_MEGABYTES = ATTACHMENT_MAX_BYTES // (1024 * 1024)
FILENAME_MAX_LENGTH = 255
#: filetype's answers for the binary types it recognises (the ZIP-based ones are told apart below).
_FILETYPE_MIMES = {
    "application/pdf": AttachmentType.PDF,
    "image/png": AttachmentType.PNG,
    "image/apng": AttachmentType.PNG,
    "image/jpeg": AttachmentType.JPEG,
    "image/heic": AttachmentType.HEIC,
}
#: ISO-BMFF brands (the `ftyp` box) of HEVC-coded HEIF images, and of HEIF images in general.
_HEIC_BRANDS = {"heic", "heix", "heim", "heis", "hevc", "hevx"}
_HEIF_BRANDS = {"mif1", "msf1"}
#: Text that a browser would take for markup or a script, whatever its name says.
_MARKUP = ("<!doctype", "<html", "<?xml", "<svg", "<script", "<iframe", "<body", "<head", "<object", "<embed")


class AttachmentError(DomainError):
    """A file refused (type, size, count or name); nothing was written."""


@dataclass(frozen=True)
class Upload:
    """A file read from a request and accepted: its cleaned name, its type as detected, its bytes."""

    filename: str
    content_type: str
    data: bytes


# --- reading a request's files ------------------------------------------------------------------


def clean_filename(name):
    """The name to show and download under: no folders, no control or invisible characters, at most 255 long."""
    name = unicodedata.normalize("NFC", str(name or "")).replace("\\", "/")
    name = posixpath.basename(name)
    # Cc: control characters; Cf: invisible formatting ones (a right-to-left override makes "exe.pdf" of "fdp.exe").
    name = "".join(char for char in name if unicodedata.category(char) not in ("Cc", "Cf"))
    name = name.strip().strip(".").strip()
    if len(name) > FILENAME_MAX_LENGTH:
        stem, ext = posixpath.splitext(name)
        ext = ext if len(ext) <= 16 else ""
        name = stem[: FILENAME_MAX_LENGTH - len(ext)] + ext
    return name


def _extension(name):
    return posixpath.splitext(name)[1].lower()


def _ftyp_type(data):
    """HEIC or HEIF from the `ftyp` box at the start of an ISO-BMFF file, or None (AVIF and videos are not photos)."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return None
    size = int.from_bytes(data[0:4], "big")
    if size < 16 or size > min(len(data), 4096):
        return None
    major = data[8:12].decode("latin-1")
    brands = {data[i : i + 4].decode("latin-1") for i in range(16, size - 3, 4)}
    if major in _HEIC_BRANDS or (major in _HEIF_BRANDS and brands & _HEIC_BRANDS):
        return AttachmentType.HEIC
    if major in _HEIF_BRANDS and not brands & {"avif", "avis"}:
        return AttachmentType.HEIF
    return None


def _office_type(data):
    """DOCX or XLSX from a ZIP's list of members (read from its directory, nothing extracted), or None."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if "[Content_Types].xml" not in names or any(name.endswith("vbaProject.bin") for name in names):
        # Not Office Open XML, or a document with macros (.docm, .xlsm) renamed.
        return None
    if "word/document.xml" in names:
        return AttachmentType.DOCX
    if "xl/workbook.xml" in names:
        return AttachmentType.XLSX
    return None


def _text_type(data):
    """TEXT for UTF-8 text without NUL characters that is not markup or a script, else None."""
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    start = text.lstrip()
    lowered = text.lower()
    if start.startswith(("<", "#!")) or any(marker in lowered for marker in _MARKUP):
        return None
    return AttachmentType.TEXT


def detect_type(data):
    """The AttachmentType that `data` is, judged by its content alone, or None."""
    kind = filetype.guess(data[:8192])
    if kind is not None and kind.mime in _FILETYPE_MIMES:
        return _FILETYPE_MIMES[kind.mime]
    if data.startswith(b"PK\x03\x04"):
        return _office_type(data)
    if kind is not None:
        return _ftyp_type(data)
    return _ftyp_type(data) or _text_type(data)


def _refuse_type(name):
    return AttachmentError(f"Le fichier « {name} » n'est pas d'un type accepté : {ALLOWED_TYPES_TEXT}.")


def check_upload(name, data):
    """The Upload for a file named `name` holding `data`, or AttachmentError saying why not (in French)."""
    name = clean_filename(name)
    if not name:
        raise AttachmentError("Un des fichiers n'a pas de nom : renommez-le puis réessayez.")
    if not data:
        raise AttachmentError(f"Le fichier « {name} » est vide.")
    if len(data) > ATTACHMENT_MAX_BYTES:
        raise AttachmentError(f"Le fichier « {name} » dépasse {MAX_MEGABYTES} Mo.")
    claimed = [kind for kind, extensions in EXTENSIONS.items() if _extension(name) in extensions]
    if not claimed:
        raise _refuse_type(name)
    detected = detect_type(data)
    if detected not in claimed:
        raise AttachmentError(f"Le fichier « {name} » n'est pas {TYPE_NOUNS[claimed[0]]} valide.")
    return Upload(filename=name, content_type=detected.value, data=data)


def read_uploads(files):
    """The files of a form's `pieces_jointes` field, checked; AttachmentError (French) for the first refused.

    `files` is `request.files.getlist("pieces_jointes")`; the empty part a browser sends when no file was
    chosen is ignored. At most 5 files of 10 Mo, each of an allowed type whose name says that type.
    """
    chosen = [file for file in files or () if file is not None and file.filename]
    if len(chosen) > ATTACHMENTS_PER_MESSAGE:
        raise AttachmentError(f"Joignez au plus {ATTACHMENTS_PER_MESSAGE} fichiers par message.")
    uploads = []
    for file in chosen:
        # One byte more than allowed is enough to refuse: a huge file is never read whole.
        data = file.stream.read(ATTACHMENT_MAX_BYTES + 1)
        uploads.append(check_upload(file.filename, data))
    return uploads


# --- storing ------------------------------------------------------------------------------------


def attach(uploads, *, message, uploader, now):
    """Attach checked `uploads` to a TicketMessage or SessionMessage (flushed or not), rows added; the caller commits.

    The bytes go to the configured storage; each row records which one, so a later switch keeps them readable.
    """
    if isinstance(message, TicketMessage):
        owner = {"ticket_message": message}
    elif isinstance(message, SessionMessage):
        owner = {"session_message": message}
    else:
        raise TypeError(f"attachments belong to a ticket or session message, not {type(message).__name__}")
    first = len(message.attachments) + 1
    if first - 1 + len(uploads) > ATTACHMENTS_PER_MESSAGE:
        raise AttachmentError(f"Joignez au plus {ATTACHMENTS_PER_MESSAGE} fichiers par message.")
    backend = storage.get_storage()
    attached = []
    for position, upload in enumerate(uploads, start=first):
        key = storage.new_key()
        backend.put(key, upload.data, upload.content_type)
        attachment = Attachment(
            **owner,
            position=position,
            filename=upload.filename,
            content_type=upload.content_type,
            size_bytes=len(upload.data),
            sha256=hashlib.sha256(upload.data).hexdigest(),
            storage=backend.backend,
            storage_key=key,
            uploaded_by_id=uploader.id,
            created_at=now,
        )
        db.session.add(attachment)
        attached.append(attachment)
    return attached


def read(attachment):
    """The attachment's bytes, from the storage its row names (StorageError when that storage cannot give them)."""
    return storage.storage_named(attachment.storage).get(attachment.storage_key)


# --- who downloads ------------------------------------------------------------------------------


def can_download(user, attachment):
    """The conversation's participants and the office; internal notes and hidden messages: the office only.

    Ticket messages: the ticket's student, for replies they see. Session messages: the session's student and
    its tutor (participants.py), unless the office hid the message. The accountant sees none.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    role = str(user.role)
    if role in (Role.ADMIN, Role.STAFF):
        return True
    if attachment.ticket_message is not None:
        message = attachment.ticket_message
        return role == Role.STUDENT and not message.is_internal and message.ticket.student_id == user.id
    if attachment.session_message is not None:
        message = attachment.session_message
        return (
            role in (Role.STUDENT, Role.TUTOR)
            and message.hidden_at is None
            and participants.is_participant(user, message.appointment)
        )
    return False


# --- display ------------------------------------------------------------------------------------


def type_label(content_type):
    """« PDF », « Image PNG », « Document Word »…"""
    try:
        return ATTACHMENT_TYPE_LABELS[AttachmentType(content_type)]
    except ValueError:
        return "Fichier"


def size_label(size_bytes):
    """A size in French: « 840 octets », « 12 ko », « 2,4 Mo »."""
    size_bytes = int(size_bytes or 0)
    if size_bytes < 1024:
        return f"{size_bytes}\u00a0octet{'s' if size_bytes > 1 else ''}"
    if size_bytes < 1024 * 1024:
        return f"{round(size_bytes / 1024)}\u00a0ko"
    megabytes = f"{size_bytes / (1024 * 1024):.1f}".replace(".", ",").removesuffix(",0")
    return f"{megabytes}\u00a0Mo"

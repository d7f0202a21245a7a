"""Tiny real files of each type a message may carry (and a few it may not), made in code, and rows to attach them to."""

import io
import struct
import zipfile
import zlib

from werkzeug.datastructures import FileStorage

from tutoradmin.demo.files import one_page_pdf
from tutoradmin.models import SessionMessage, Ticket, TicketMessage, utcnow


def pdf():
    return one_page_pdf(["Exercice 3, page 42"])


def png():
    """A 1×1 grey PNG."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b"")
    )


def jpeg():
    """The start of a JFIF file: SOI and an APP0 segment (what a camera writes first)."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\xff\xd9"


def ftyp(major, *compatible):
    """An ISO-BMFF `ftyp` box (HEIC, HEIF, AVIF and MP4 files start with one), then an empty `meta` box."""
    brands = b"".join(brand.encode() for brand in compatible)
    box = struct.pack(">I", 16 + len(brands)) + b"ftyp" + major.encode() + b"\x00\x00\x00\x00" + brands
    return box + struct.pack(">I", 8) + b"meta"


def heic():
    return ftyp("heic", "mif1", "heic")


def heif():
    return ftyp("mif1", "mif1", "miaf")


def office(*members):
    """A ZIP holding `members` (each a tiny XML file), as Word and Excel documents are."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in members:
            # A fixed date: the same members make the same bytes.
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 5, 9, 0, 0)), "<?xml version='1.0'?><x/>")
    return buffer.getvalue()


def docx():
    return office("[Content_Types].xml", "_rels/.rels", "word/document.xml")


def xlsx():
    return office("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/worksheets/sheet1.xml")


def text():
    return "Bonjour,\nvoici mes questions pour la séance de jeudi.\n".encode()


def exe():
    """The start of a Windows program (MZ header)."""
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"This program cannot be run"


#: One accepted file of each type: (name, bytes, the content type detected).
ACCEPTED = [
    ("énoncé.pdf", pdf, "application/pdf"),
    ("capture.png", png, "image/png"),
    ("photo.JPG", jpeg, "image/jpeg"),
    ("IMG_0001.HEIC", heic, "image/heic"),
    ("photo.heif", heif, "image/heif"),
    ("rapport.docx", docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("budget.xlsx", xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("notes.txt", text, "text/plain"),
]


def upload(name, data, content_type="application/octet-stream"):
    """A file as a form posts it (what `request.files.getlist(...)` holds)."""
    return FileStorage(stream=io.BytesIO(data), filename=name, content_type=content_type)


def ticket_message(db, student, author=None, internal=False):
    """A ticket of `student` with one message (the student's, or `author`'s), flushed."""
    ticket = Ticket(student=student, subject="Question sur un paiement")
    message = TicketMessage(
        ticket=ticket, author_id=(author or student).id, body="Voir le fichier.", is_internal=internal
    )
    db.session.add_all([ticket, message])
    db.session.flush()
    return message


def session_message(db, appointment, author, hidden_by=None):
    """A message in `appointment`'s conversation, flushed; hidden by the office when `hidden_by` is given."""
    message = SessionMessage(appointment=appointment, author_id=author.id, body="Voici l'énoncé.")
    if hidden_by is not None:
        message.hidden_at, message.hidden_by_id, message.hidden_reason = utcnow(), hidden_by.id, "Propos injurieux"
    db.session.add(message)
    db.session.flush()
    return message

"""The demo student's ticket and their conversation with the demo tutor, written through the product's rules.

Both go through `support` and `messaging` (so events, read marks and files are what the pages would
leave) at moments of the last few days, in local time.
"""

from datetime import time, timedelta

from sqlalchemy import select

from .. import messaging, support
from ..attachments import Upload
from ..extensions import db
from ..localtime import LOCAL_TZ, local_instant
from ..models import Appointment, AppointmentStatus, AttachmentType, Order, OrderStatus
from . import data
from .files import one_page_pdf


def build_conversations(now, *, student, tutor, office):
    """Write the demo ticket and the session conversation; counts by label."""
    _ticket(now, student, office["staff"])
    written = _conversation(now, student, tutor)
    db.session.flush()
    return {"billets de soutien": 1, "messages sur les séances": written}


def _latest_paid_order(student, before):
    return db.session.scalar(
        select(Order)
        .where(
            Order.user_id == student.id,
            Order.status == OrderStatus.PAID.value,
            Order.paid_at < before,
        )
        .order_by(Order.paid_at.desc(), Order.id.desc())
        .limit(1)
    )


def _local_moment(now, days_ago, clock):
    """`clock` ("HH:MM", local time) on the local day `days_ago` days before `now`'s."""
    hours, minutes = map(int, clock.split(":"))
    return local_instant(now.astimezone(LOCAL_TZ).date() - timedelta(days=days_ago), time(hours, minutes))


def _ticket(now, student, staff):
    """A payment question with an internal note and a reply the student has not read yet."""
    spec = data.DEMO_TICKET
    opened = _local_moment(now, spec["days_ago"], spec["opened_at"])
    authors = {"student": student, "staff": staff}
    (first_author, first_body, _, _), *replies = spec["messages"]
    ticket = support.open_ticket(
        authors[first_author],
        spec["category"],
        spec["subject"],
        first_body,
        opened,
        order=_latest_paid_order(student, opened),
    )
    support.mark_read_by_student(ticket)
    for who, body, internal, hours in replies:
        support.reply(ticket, authors[who], body, internal, opened + timedelta(hours=hours))
    ticket.assignee_id = staff.id
    return ticket


def _demo_session(now, student, tutor):
    """The student's next session with the demo tutor booked before now, or else their latest past one."""
    query = select(Appointment).where(
        Appointment.student_id == student.id,
        Appointment.tutor_id == tutor.id,
        Appointment.status != AppointmentStatus.CANCELLED.value,
        Appointment.created_at < now - timedelta(minutes=30),
    )
    coming = db.session.scalar(
        query.where(Appointment.starts_at > now).order_by(Appointment.starts_at, Appointment.id).limit(1)
    )
    if coming is not None:
        return coming
    return db.session.scalar(query.order_by(Appointment.starts_at.desc(), Appointment.id.desc()).limit(1))


def conversation_moments(appointment, now):
    """When each message is written: the planned evenings and lunch hours, or evenly after a recent booking."""
    planned = [_local_moment(now, days_ago, clock) for *_, (days_ago, clock) in data.DEMO_CONVERSATION]
    end = min(now, appointment.ends_at)
    if appointment.created_at < planned[0] and planned[-1] < end:
        return planned
    step = (end - appointment.created_at) / (len(planned) + 1)
    return [(appointment.created_at + step * n).replace(microsecond=0) for n in range(1, len(planned) + 1)]


def _conversation(now, student, tutor):
    """Messages both ways, a PDF from the student, the tutor's last message unread; the number written."""
    appointment = _demo_session(now, student, tutor)
    if appointment is None:
        return 0
    authors = {"student": student, "tutor": tutor.user}
    moments = conversation_moments(appointment, now)
    for (who, body, filename, _), at in zip(data.DEMO_CONVERSATION, moments, strict=True):
        uploads = [Upload(filename, AttachmentType.PDF.value, one_page_pdf(data.DEMO_PDF_LINES))] if filename else []
        # Each participant has read the conversation when writing (send() records it for the author).
        messaging.send(appointment, authors[who], body, at, uploads=uploads)
    return len(data.DEMO_CONVERSATION)

"""The `data` of every outbound event, built from domain objects: the contract of docs/webhooks.md.

Each builder returns plain JSON values; docs/webhook-schemas/<type>.json describes each shape.
Texts meant for a message (dates, times, amounts) are already in French (Canada), in Toronto time.
"""

from datetime import UTC, date

from flask import current_app
from sqlalchemy import select

from .extensions import db
from .formatting import local_datetime, local_time, long_date, money, month_label
from .localtime import to_local
from .models import Appointment, Role

#: How the person behind a change is named when no account made it (a scheduled task, the gateway).
SYSTEM_NAME = "4AS"

#: Attendance marks (SPEC §10) and how they read in a message.
ATTENDANCE_LABELS = {
    "present": "Présent",
    "absent": "Absent",
    "late_cancellation": "Annulation tardive",
}
#: The marks stored on sessions (models.Attendance) as the event names them.
EVENT_MARKS = {"present": "present", "no_show": "absent", "late_cancel": "late_cancellation"}


def absolute_url(path):
    """`path` on the public site (PUBLIC_BASE_URL, no trailing slash)."""
    return current_app.config["PUBLIC_BASE_URL"] + path


def session_url(appointment_id):
    """The student's page of a session (a contract: messages link to it)."""
    return absolute_url(f"/tableau-de-bord/seances/{appointment_id}")


# --- blocks ---------------------------------------------------------------------------------


def money_block(cents):
    """{"cents": 8000, "formatted": "80,00 $"}."""
    return {"cents": cents, "formatted": money(cents)}


def moment(value):
    """An instant as ISO-8601 with the Toronto offset, or None."""
    return None if value is None else to_local(value).isoformat()


def moment_utc(value):
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def when(starts_at):
    """A start time in every form a message needs."""
    return {
        "starts_at": moment(starts_at),
        "starts_at_utc": moment_utc(starts_at),
        "date_text": long_date(to_local(starts_at).date()),
        "time_text": local_time(starts_at),
    }


def person(user):
    """An account: id, names and email."""
    return {"id": user.id, "first_name": user.first_name, "last_name": user.last_name, "email": user.email}


def student(user):
    """A student: their account and phone number, when known."""
    return {**person(user), "phone": user.phone or None}


def tutor(profile):
    """A tutor as students see them, with the address that reaches them."""
    return {
        "id": profile.id,
        "name": profile.display_name,
        "email": profile.contact_email or profile.user.email,
    }


def actor(user):
    """Who made a change: their role (student, tutor, staff, admin or system) and name."""
    if user is None:
        return {"role": "system", "name": SYSTEM_NAME}
    role = str(user.role)
    # The accountant works in the office: students need not tell them apart.
    role = role if role in (Role.STUDENT, Role.TUTOR, Role.ADMIN) else "staff"
    return {"role": role, "name": user.full_name}


def participant(user):
    """One side of a conversation: account, role and the name shown to the other side."""
    profile = user.tutor_profile if str(user.role) == Role.TUTOR else None
    name = profile.display_name if profile is not None else user.full_name
    return {"id": user.id, "role": str(user.role), "name": name, "email": user.email}


def course(item):
    return {"id": item.id, "title": item.title}


def session(appointment):
    """A booked session: what, with whom, when (ISO and French text), how long, where, and its page."""
    link = appointment.meeting_link
    return {
        "appointment_id": appointment.id,
        "status": appointment.status,
        "course": course(appointment.course),
        "tutor": tutor(appointment.tutor),
        **when(appointment.starts_at),
        "duration_minutes": appointment.duration_minutes,
        "meeting_url": link.url if link is not None else None,
        "url": session_url(appointment.id),
    }


def dashboard_url():
    return absolute_url("/tableau-de-bord")


# --- one builder per event type ---------------------------------------------------------------


def signup(user):
    """`signup`: a new student account (welcome message)."""
    return {"student": student(user), "dashboard_url": dashboard_url()}


def password_reset_requested(user, reset_url, expires_at):
    """`password.reset_requested`: a single-use link to choose a new password."""
    return {
        "user": person(user),
        "reset_url": reset_url,
        "expires_at": moment(expires_at),
        "expires_at_text": local_datetime(expires_at),
    }


def booking_created(order, lost_items=()):
    """`booking.created`: a paid order, its booked sessions, and those refunded because their slot was taken."""
    booked = db.session.scalars(
        select(Appointment)
        .where(Appointment.order_item_id.in_([item.id for item in order.items]))
        .order_by(Appointment.starts_at, Appointment.id)
    ).all()
    return {
        "order_id": order.id,
        "student": student(order.user),
        "sessions": [session(appointment) for appointment in booked],
        "unbooked": [
            {
                "course": course(item.course),
                **when(item.starts_at),
                "duration_minutes": item.duration_minutes,
                "reason": item.flag_reason or "",
            }
            for item in lost_items
        ],
        "subtotal": money_block(order.subtotal_cents),
        "discount": money_block(order.discount_cents),
        "credit_used": money_block(order.credit_cents),
        "card_total": money_block(order.total_cents),
        "dashboard_url": dashboard_url(),
    }


def _session_event(appointment):
    return {"session": session(appointment), "student": student(appointment.student), "tutor": tutor(appointment.tutor)}


def booking_cancelled(appointment, by, credit_cents, refunded_cents):
    """`booking.cancelled`: who cancelled, why, and what the student got back (credit, card refund)."""
    return {
        **_session_event(appointment),
        "cancelled_by": actor(by),
        "reason": appointment.cancellation_reason or "",
        "cancelled_at": moment(appointment.cancelled_at),
        "credit": money_block(credit_cents),
        "refund": money_block(refunded_cents),
    }


def booking_rescheduled(appointment, previous_starts_at, by):
    """`booking.rescheduled`: the session's new time and the one it replaces."""
    return {**_session_event(appointment), "previous": when(previous_starts_at), "rescheduled_by": actor(by)}


def booking_reminder(appointment):
    """`booking.reminder`: the session starts within 24 hours."""
    return _session_event(appointment)


def booking_attendance(appointment, mark, note):
    """`booking.attendance`: the tutor's (or office's) mark after the session: present, absent, late_cancellation."""
    mark = EVENT_MARKS.get(str(mark), str(mark))
    return {
        **_session_event(appointment),
        "mark": mark,
        "mark_text": ATTENDANCE_LABELS.get(mark, mark),
        "note": note or "",
    }


def ticket(item):
    return {
        "id": item.id,
        "subject": item.subject,
        "category": item.category,
        "priority": item.priority,
        "status": item.status,
    }


def ticket_message(message):
    return {
        "id": message.id,
        "author": actor(message.author),
        "body": message.body,
        "created_at": moment(message.created_at),
    }


def ticket_created(item, message):
    """`ticket.created`: a student opened a ticket (for the office, and an acknowledgement to the student)."""
    return {
        "ticket": ticket(item),
        "student": student(item.student),
        "message": ticket_message(message),
        "dashboard_url": dashboard_url(),
    }


def ticket_url(item, recipient):
    """Where `recipient` ("student" or "office") reads the ticket: the student's page, or the office's reply page."""
    if recipient == "office":
        return absolute_url(f"/admin/billets/repondre/{item.id}")
    return absolute_url(f"/tableau-de-bord/billets/{item.id}")


def ticket_replied(item, message):
    """`ticket.replied`: a new message on a ticket, for the other side (internal notes are never sent).

    The office's reply is for the student; the student's message is for the office (its assignee, if any).
    """
    recipient = "office" if message.author_id == item.student_id else "student"
    return {
        **ticket_created(item, message),
        "attachments": [attachment.filename for attachment in message.attachments],
        "recipient": recipient,
        "ticket_url": ticket_url(item, recipient),
        "assignee": person(item.assignee) if item.assignee is not None else None,
    }


def message_sent(message, recipient):
    """`message.sent`: a message in a session's conversation (a SessionMessage), for `recipient`, the other side."""
    appointment = message.appointment
    # The student reads the conversation from the session's page; the tutor in the back office.
    if str(recipient.role) == Role.STUDENT:
        url = absolute_url(f"/tableau-de-bord/seances/{appointment.id}/messages")
    else:
        url = absolute_url(f"/admin/mes-rendez-vous/messages/{appointment.id}")
    return {
        "message_id": message.id,
        "sender": participant(message.author),
        "recipient": participant(recipient),
        "session": session(appointment),
        "text": message.body,
        "attachments": [attachment.filename for attachment in message.attachments],
        "sent_at": moment(message.created_at),
        "url": url,
    }


def refund_processed(refund):
    """`refund.processed`: money given back to the card, and the sessions the refund cancelled."""
    cancelled = [
        refund_item.order_item.appointment
        for refund_item in refund.items
        if refund_item.cancels_appointment and refund_item.order_item.appointment is not None
    ]
    order = refund.order
    return {
        "refund_id": refund.id,
        "order_id": order.id,
        "status": refund.status,
        "student": student(order.user),
        "amount": money_block(refund.amount_cents),
        "reason": refund.reason,
        "created_at": moment(refund.created_at),
        "cancelled_sessions": [session(appointment) for appointment in cancelled],
        "dashboard_url": dashboard_url(),
    }


def payout_paid(payout):
    """`payout.paid`: a tutor's month paid, with its hours, earnings, adjustments and amount."""
    return {
        "payout_id": payout.id,
        "tutor": tutor(payout.tutor),
        "month": f"{payout.year}-{payout.month:02d}",
        "month_text": month_label(date(payout.year, payout.month, 1)),
        "minutes": payout.minutes,
        "earnings": money_block(payout.earnings_cents),
        "adjustments": money_block(payout.adjustments_cents),
        "amount": money_block(payout.amount_cents),
        "confirmation_number": payout.confirmation_number,
        "paid_at": moment(payout.paid_at),
        "paid_at_text": local_datetime(payout.paid_at),
    }


def tutor_availability_updated(profile, summary):
    """`tutor.availability.updated`: what changed in a tutor's hours (weekly rules, exceptions, time off)."""
    return {"tutor": tutor(profile), "changes": list(summary)}


def tutor_rate_updated(profile, old_cents, new_cents):
    """`tutor.rate.updated`: the tutor's hourly rate, before and after."""
    return {"tutor": tutor(profile), "previous_rate": money_block(old_cents), "new_rate": money_block(new_cents)}


def course_created(item):
    """`course.created`: a new course in the catalogue, with its public page."""
    return {
        "course": {
            **course(item),
            "slug": item.slug,
            "full_name": item.full_name or "",
            "sigle": item.sigle,
            "institution": item.institution,
            "active": bool(item.active),
            "rate": money_block(item.rate_cents),
            "url": absolute_url(f"/cours/{item.slug}"),
        },
        "tutors": [tutor(profile) for profile in item.tutors],
    }

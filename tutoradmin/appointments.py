"""Changing booked sessions: the office books one without payment, anyone allowed cancels one
(the attendance marks of sessions that have ended are in attendance.py).

A cancelled session frees the tutor's time at once and, unless it is being refunded to the
card instead, gives the student a credit equal to what they paid for it (SPEC §8, §9, §10).
"""

import re
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import balances, credits, events, outbox, payouts
from .calendars import UNKNOWN_TUTOR, UnknownTutor, bookable_tutors
from .errors import DomainError
from .extensions import db
from .formatting import local_datetime
from .models import (
    Appointment,
    AppointmentChange,
    AppointmentStatus,
    ChangeKind,
    CreditKind,
    MeetingLink,
    MeetingProvider,
    OutboxEventType,
    Refund,
    RefundItem,
    RefundStatus,
    Role,
    Tutor,
    User,
    UserStatus,
)
from .models.dates import OUTSIDE_BUSINESS_YEARS, within_business_years
from .occupancy import SlotTaken, occupy, release_appointment
from .pricing import PricingError, session_price

REASON_REQUIRED = "Indiquez le motif de l'annulation."
ALREADY_CANCELLED = "Ce rendez-vous est déjà annulé."
NOT_UPCOMING = "Seul un rendez-vous à venir peut être annulé."
TUTOR_BUSY = "Le tuteur n'est pas libre à ce moment."
STUDENT_REASON = "Annulée par l'étudiant"


class AppointmentError(DomainError):
    """A change refused; the message is for the person who asked."""


def paid_for(appointment):
    """What the student paid for this session (card and credit) less card refunds; 0 without payment."""
    item = appointment.order_item
    if item is None:
        return 0
    # A goodwill refund already gave part of it back: crediting the whole price would pay it twice.
    return item.paid_cents - balances.refunded_item_cents(item)


def cancel(appointment, reason, actor, now, give_credit=True):
    """Cancel a scheduled or completed session, free its time and, by default, credit the student.

    A completed session of a month already paid to its tutor is taken back on the tutor's next
    statement. Returns the credit given in cents. The refund module passes give_credit=False: its money goes
    back to the card instead.
    """
    reason = (reason or "").strip()
    if not reason:
        raise AppointmentError(REASON_REQUIRED)
    # A double submit waits here for the first cancellation (PostgreSQL row lock), then sees it done:
    # without the lock both would read the session as scheduled and credit the student twice.
    appointment = db.session.get(Appointment, appointment.id, with_for_update=True, populate_existing=True)
    if appointment.status == AppointmentStatus.CANCELLED:
        raise AppointmentError(ALREADY_CANCELLED)
    was_completed = appointment.status == AppointmentStatus.COMPLETED
    actor_id = getattr(actor, "id", None)
    # Set together: the row must never be flushed cancelled without its date.
    appointment.cancelled_at, appointment.cancelled_by_id = now, actor_id
    appointment.cancellation_reason = reason
    appointment.status = AppointmentStatus.CANCELLED.value
    release_appointment(appointment.id)
    db.session.add(
        AppointmentChange(
            appointment_id=appointment.id,
            actor_id=getattr(actor, "id", None),
            kind=ChangeKind.CANCELLED.value,
            previous_starts_at=appointment.starts_at,
            reason=reason,
            created_at=now,
        )
    )
    if was_completed and appointment.order_item is not None:
        # Its month may already be paid to the tutor: take the earnings back on the next statement.
        payouts.record_refund_adjustment(appointment.order_item, None, reason, now)
    # A late cancellation or a no-show may already have credited part of it (attendance.py).
    credit = max(paid_for(appointment) - credits.given_for_session(appointment), 0) if give_credit else 0
    if credit:
        credits.add_entry(
            appointment.student_id,
            CreditKind.CREDIT,
            credit,
            f"Annulation de la séance du {local_datetime(appointment.starts_at)}",
            now,
            appointment_id=appointment.id,
            created_by_id=getattr(actor, "id", None),
        )
    _announce_cancellation(appointment, actor, credit, give_credit, now)
    return credit


def _announce_cancellation(appointment, actor, credit, give_credit, now):
    """Queue `booking.cancelled` with what the student gets back."""
    item = appointment.order_item
    if give_credit or item is None:
        credited, refunded = credit, 0
    else:
        # Cancelled by a refund (refunds.py): the card gets its share of the refund back, and the
        # part paid with credit returns as credit.
        credited, refunded = item.credit_cents, refund_for(appointment)
    outbox.emit(
        OutboxEventType.BOOKING_CANCELLED,
        events.booking_cancelled(appointment, actor, credited, refunded),
        f"booking.cancelled:appointment:{appointment.id}",
        now,
        ordering_key=f"student:{appointment.student_id}",
    )


def refund_for(appointment):
    """The card refund that cancels this session (its share of it, in cents); 0 if none."""
    if appointment.order_item_id is None:
        return 0
    cents = db.session.scalar(
        select(RefundItem.amount_cents)
        .join(Refund, Refund.id == RefundItem.refund_id)
        .where(
            RefundItem.order_item_id == appointment.order_item_id,
            RefundItem.cancels_appointment.is_(True),
            Refund.status != RefundStatus.FAILED.value,
        )
        .order_by(Refund.id.desc())
        .limit(1)
    )
    return cents or 0


def check_tutor_can_cancel(appointment, now):
    """A tutor cancels only sessions still to come; a past one is the office's to cancel."""
    if not appointment.is_upcoming(now):
        raise AppointmentError(NOT_UPCOMING)


def tutor_cancel(appointment, reason, tutor_user, now):
    """A tutor's cancellation of one of their sessions still to come; the student is credited as usual."""
    check_tutor_can_cancel(appointment, now)
    return cancel(appointment, reason, tutor_user, now)


def cancel_deadline(appointment, notice_hours):
    """The last instant a student may cancel the session online."""
    return appointment.starts_at - timedelta(hours=notice_hours)


def student_can_cancel(appointment, now, notice_hours):
    return appointment.is_upcoming(now) and now <= cancel_deadline(appointment, notice_hours)


def student_cancel(appointment, student, now, notice_hours):
    """A student's own cancellation, up to `notice_hours` before the start: the usual credit; returns it."""
    if appointment.student_id != student.id:
        raise AppointmentError("Cette séance n'est pas la vôtre.")
    # Read under the row lock: a move or another cancellation of this session waits, then is seen.
    appointment = db.session.get(Appointment, appointment.id, with_for_update=True, populate_existing=True)
    if appointment.status == AppointmentStatus.CANCELLED:
        raise AppointmentError(ALREADY_CANCELLED)
    if not appointment.is_upcoming(now):
        raise AppointmentError(NOT_UPCOMING)
    deadline = cancel_deadline(appointment, notice_hours)
    if now > deadline:
        raise AppointmentError(
            f"Trop tard pour annuler en ligne : une séance s'annule au plus tard {notice_hours} h avant son début "
            f"(jusqu'au {local_datetime(deadline)}). Communiquez avec 4AS."
        )
    return cancel(appointment, STUDENT_REASON, student, now)


def book_without_payment(student, tutor, course, starts_at, duration_minutes, actor, now):
    """An office booking (make-up session, goodwill): no order, the tutor's time locked all the same."""
    if student is None or student.role != Role.STUDENT or student.status != UserStatus.ACTIVE:
        raise AppointmentError("Choisissez un étudiant actif.")
    if tutor is None or course is None:
        raise AppointmentError(UNKNOWN_TUTOR)
    try:
        bookable_tutors(course.id, tutor.id)
    except UnknownTutor as exc:
        raise AppointmentError(str(exc)) from exc
    try:
        session_price(course, duration_minutes)
    except PricingError as exc:
        raise AppointmentError(str(exc)) from exc
    if not within_business_years(starts_at):
        raise AppointmentError(OUTSIDE_BUSINESS_YEARS)
    if starts_at <= now:
        raise AppointmentError("La séance doit commencer dans le futur.")
    appointment = Appointment(
        student_id=student.id,
        tutor_id=tutor.id,
        course_id=course.id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=duration_minutes),
        duration_minutes=duration_minutes,
        created_by_id=getattr(actor, "id", None),
        created_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(appointment)
            db.session.flush()  # the database refuses a session over another one of this tutor
            occupy(tutor.id, appointment.starts_at, appointment.ends_at, appointment_id=appointment.id)
    except ValueError as exc:
        raise AppointmentError("La séance doit commencer à l'heure ou à la demie.") from exc
    except (SlotTaken, IntegrityError) as exc:
        raise AppointmentError(TUTOR_BUSY) from exc
    db.session.add(
        AppointmentChange(
            appointment_id=appointment.id,
            actor_id=getattr(actor, "id", None),
            kind=ChangeKind.CREATED.value,
            new_starts_at=appointment.starts_at,
            reason="Réservé par le bureau, sans paiement",
            created_at=now,
        )
    )
    return appointment


def bookable_students():
    return db.session.scalars(
        select(User)
        .where(User.role == Role.STUDENT.value, User.status == UserStatus.ACTIVE.value)
        .order_by(User.last_name, User.first_name)
    ).all()


def active_tutors():
    return db.session.scalars(select(Tutor).where(Tutor.active.is_(True)).order_by(Tutor.display_name)).all()


MEETING_HOSTS = {
    "zoom.us": MeetingProvider.ZOOM,
    "teams.microsoft.com": MeetingProvider.TEAMS,
    "teams.live.com": MeetingProvider.TEAMS,
    "meet.google.com": MeetingProvider.MEET,
}
BAD_LINK = "Lien invalide : collez l'adresse https:// de la rencontre Zoom, Teams ou Meet."
# The characters of a URL (RFC 3986) less those that could end an HTML attribute or a quoted
# string where the link is shown or sent: no quotes, spaces, angle brackets, backslashes,
# braces, pipes, carets or backticks, anywhere. Anything else is percent-encoded by the provider.
_URL_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&()*+,;=%]+")
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_HOST = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+")


def meeting_provider(url):
    """The provider of a meeting URL (Zoom, Teams, Meet), or raise AppointmentError."""
    url = (url or "").strip()
    if len(url) > 500 or not _URL_CHARACTERS.fullmatch(url) or _LONE_PERCENT.search(url):
        raise AppointmentError(BAD_LINK)
    parts = urlsplit(url)
    host = parts.netloc.lower()
    # The host alone: no user name (https://zoom.us@example.com) and no port.
    if parts.scheme != "https" or not _HOST.fullmatch(host):
        raise AppointmentError(BAD_LINK)
    for domain, provider in MEETING_HOSTS.items():
        if host == domain or host.endswith("." + domain):
            return provider
    raise AppointmentError(BAD_LINK)


def set_meeting_link(appointment, url, actor, now):
    """Add or replace the session's meeting link; recorded in its history."""
    if appointment.status == AppointmentStatus.CANCELLED:
        raise AppointmentError("Ce rendez-vous est annulé.")
    url = (url or "").strip()
    provider = meeting_provider(url)
    link = appointment.meeting_link
    if link is None:
        link = MeetingLink(appointment=appointment, created_at=now)
        db.session.add(link)
    link.provider, link.url, link.added_by_id, link.updated_at = provider.value, url, actor.id, now
    db.session.add(
        AppointmentChange(
            appointment_id=appointment.id,
            actor_id=actor.id,
            kind=ChangeKind.MEETING_LINK.value,
            reason=url,
            created_at=now,
        )
    )
    return link

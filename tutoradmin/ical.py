"""Calendar files (iCalendar, RFC 5545) of booked sessions: one session's .ics and a person's private feed."""

import secrets
from datetime import UTC, date
from urllib.parse import urlsplit

from flask import current_app
from icalendar import Calendar, Event, Timezone
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .events import session_url
from .extensions import db
from .localtime import LOCAL_TZ, TIMEZONE_NAME, to_local
from .models import Appointment, AppointmentChange, AppointmentStatus, ChangeKind, Tutor, User

PRODUCT_ID = "-//4AS//TutorAdmin//FR"


def new_token():
    """An unguessable feed token (256 random bits)."""
    return secrets.token_urlsafe(32)


def renew_token(user):
    """Give the user a new feed address: the old one stops working at once. The caller commits."""
    user.calendar_token = new_token()
    return user.calendar_token


def revoke_token(user):
    """Close the user's feed: its address answers 404 from now on. The caller commits."""
    user.calendar_token = None


def user_by_token(token):
    """The account whose feed `token` opens, or None (one lookup by the unique index)."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(User).where(User.calendar_token == token))


def _sequences(appointment_ids):
    """{appointment id: times it was moved}: the SEQUENCE calendars use to replace an older copy."""
    if not appointment_ids:
        return {}
    rows = db.session.execute(
        select(AppointmentChange.appointment_id, func.count())
        .where(
            AppointmentChange.appointment_id.in_(appointment_ids),
            AppointmentChange.kind == ChangeKind.RESCHEDULED.value,
        )
        .group_by(AppointmentChange.appointment_id)
    )
    return dict(rows.all())


def _loaded(query):
    return query.options(
        selectinload(Appointment.course), selectinload(Appointment.tutor), selectinload(Appointment.meeting_link)
    )


def user_appointments(user):
    """Every session of the account: a student's own, or those a tutor teaches."""
    query = _loaded(select(Appointment))
    tutor_id = db.session.scalar(select(Tutor.id).where(Tutor.user_id == user.id))
    if tutor_id is not None:
        query = query.where((Appointment.student_id == user.id) | (Appointment.tutor_id == tutor_id))
    else:
        query = query.where(Appointment.student_id == user.id)
    return db.session.scalars(query.order_by(Appointment.starts_at, Appointment.id)).all()


def uid(appointment):
    """The event's UID, the same for the life of the session, so that calendars update it in place."""
    host = urlsplit(current_app.config["PUBLIC_BASE_URL"]).hostname or "4as.ca"
    return f"appointment-{appointment.id}@{host}"


def _event(appointment, sequence, stamp, page_url):
    event = Event()
    event.add("uid", uid(appointment))
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("sequence", sequence)
    event.add("dtstart", to_local(appointment.starts_at))
    event.add("dtend", to_local(appointment.ends_at))
    event.add("summary", f"{appointment.course.title} avec {appointment.tutor.display_name}")
    lines = []
    link = appointment.meeting_link
    if link is not None:
        lines.append(f"Lien de la séance : {link.url}")
    url = page_url(appointment)
    lines.append(f"Détails de la séance : {url}")
    event.add("description", "\n".join(lines))
    event.add("url", url)
    if link is not None:
        event.add("location", link.url)
    cancelled = appointment.status == AppointmentStatus.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def _timezone(appointments, now):
    """Toronto's VTIMEZONE, its rules written out for the years the sessions span (and the next)."""
    years = [to_local(a.starts_at).year for a in appointments] or [to_local(now).year]
    return Timezone.from_tzinfo(LOCAL_TZ, first_date=date(min(years) - 1, 1, 1), last_date=date(max(years) + 2, 1, 1))


def build_calendar(appointments, now, name=None, page_url=None):
    """An iCalendar document of `appointments`, in Toronto time with its VTIMEZONE; returns bytes."""
    page_url = page_url or (lambda appointment: session_url(appointment.id))
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    if name:
        calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", TIMEZONE_NAME)
    calendar.add_component(_timezone(appointments, now))
    sequences = _sequences([a.id for a in appointments])
    for appointment in appointments:
        calendar.add_component(_event(appointment, sequences.get(appointment.id, 0), now, page_url))
    return calendar.to_ical()


def session_calendar(appointment, now):
    """The .ics of one session."""
    return build_calendar([appointment], now)


def feed_calendar(user, now):
    """The private feed of every session of the account."""
    return build_calendar(user_appointments(user), now, name="Séances 4AS")

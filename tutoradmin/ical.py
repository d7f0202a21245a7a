"""Calendar files (iCalendar, RFC 5545) of booked sessions: one session's .ics and a person's private feed."""

import secrets
from datetime import UTC, date, timedelta
from urllib.parse import urlsplit

from flask import current_app
from icalendar import Calendar, Event, Timezone
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .events import absolute_url, session_url
from .extensions import db
from .localtime import LOCAL_TZ, TIMEZONE_NAME, to_local
from .models import Appointment, AppointmentChange, AppointmentStatus, ChangeKind, Tutor, User

PRODUCT_ID = "-//4AS//TutorAdmin//FR"
#: The private feed covers sessions starting from this many days back to this many days ahead.
FEED_DAYS_BACK = 90
FEED_DAYS_AHEAD = 365


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


FEED_MESSAGES = {
    "create": "Votre calendrier privé est prêt : ajoutez son adresse à votre agenda.",
    "renew": "Nouvelle adresse créée. L'ancienne ne fonctionne plus : mettez à jour votre agenda.",
    "revoke": "Adresse du calendrier désactivée : votre agenda ne recevra plus vos séances.",
}


def change_feed(user, action):
    """Create or renew (`create`, `renew`) or close (`revoke`) the user's feed; returns what to tell them.

    The caller commits. Students and tutors alike (the feed lists the sessions they attend or teach).
    """
    if action == "revoke":
        revoke_token(user)
    else:
        renew_token(user)
    return FEED_MESSAGES[action]


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
        selectinload(Appointment.course),
        selectinload(Appointment.tutor),
        selectinload(Appointment.student),
        selectinload(Appointment.meeting_link),
    )


def feed_window(now):
    """The first and last instants a feed's sessions may start in (cancelled ones included, as cancelled)."""
    return now - timedelta(days=FEED_DAYS_BACK), now + timedelta(days=FEED_DAYS_AHEAD)


def _tutor_id(user):
    return db.session.scalar(select(Tutor.id).where(Tutor.user_id == user.id))


def user_appointments(user, now, tutor_id=None):
    """The account's sessions in the feed window: a student's own, or those a tutor (`tutor_id`) teaches."""
    first, last = feed_window(now)
    query = _loaded(select(Appointment)).where(Appointment.starts_at >= first, Appointment.starts_at <= last)
    if tutor_id is not None:
        query = query.where((Appointment.student_id == user.id) | (Appointment.tutor_id == tutor_id))
    else:
        query = query.where(Appointment.student_id == user.id)
    return db.session.scalars(query.order_by(Appointment.starts_at, Appointment.id)).all()


def uid(appointment):
    """The event's UID, the same for the life of the session, so that calendars update it in place."""
    host = urlsplit(current_app.config["PUBLIC_BASE_URL"]).hostname or "4as.ca"
    return f"appointment-{appointment.id}@{host}"


def _event(appointment, sequence, stamp, page_url, summary):
    event = Event()
    event.add("uid", uid(appointment))
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("sequence", sequence)
    event.add("dtstart", to_local(appointment.starts_at))
    event.add("dtend", to_local(appointment.ends_at))
    event.add("summary", summary(appointment))
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


def student_summary(appointment):
    return f"{appointment.course.title} avec {appointment.tutor.display_name}"


def tutor_summary(appointment):
    return f"Séance avec {appointment.student.first_name} — {appointment.course.title}"


def tutor_page_url(appointment):
    """The session in the tutor's back office (never the student's pages)."""
    return absolute_url(f"/admin/mes-rendez-vous/details/?id={appointment.id}")


def student_page_url(appointment):
    return session_url(appointment.id)


def build_calendar(appointments, now, name=None, page_url=None, summary=None):
    """An iCalendar document of `appointments`, in Toronto time with its VTIMEZONE; returns bytes.

    `page_url` and `summary`: functions of a session, by default the student's wording and page.
    """
    page_url = page_url or student_page_url
    summary = summary or student_summary
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
        calendar.add_component(_event(appointment, sequences.get(appointment.id, 0), now, page_url, summary))
    return calendar.to_ical()


def session_calendar(appointment, now):
    """The .ics of one session."""
    return build_calendar([appointment], now)


def feed_calendar(user, now):
    """The private feed of the account's sessions in the feed window; a tutor's read as the tutor's."""
    tutor_id = _tutor_id(user)
    appointments = user_appointments(user, now, tutor_id)
    if tutor_id is None:
        return build_calendar(appointments, now, name="Séances 4AS")

    def taught(appointment):
        return appointment.tutor_id == tutor_id

    return build_calendar(
        appointments,
        now,
        name="Séances 4AS",
        page_url=lambda a: tutor_page_url(a) if taught(a) else student_page_url(a),
        summary=lambda a: tutor_summary(a) if taught(a) else student_summary(a),
    )

"""A student's reservations, as the dashboard lists them."""

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .extensions import db
from .models import Appointment


def student_appointments(student_id, now):
    """(upcoming, past) appointments of a student, nearest first."""
    rows = db.session.scalars(
        select(Appointment)
        .where(Appointment.student_id == student_id)
        .options(
            selectinload(Appointment.course), selectinload(Appointment.tutor), selectinload(Appointment.meeting_link)
        )
        .order_by(Appointment.starts_at)
    ).all()
    upcoming = [a for a in rows if a.ends_at > now]
    past = [a for a in reversed(rows) if a.ends_at <= now]
    return upcoming, past

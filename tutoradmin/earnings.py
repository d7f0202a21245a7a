"""What tutors earn: which sessions count, for how much, and their totals per local month (SQL).

Shared by the payout statements and the revenue report's tutor cost.
"""

from sqlalchemy import and_, case, func, select

from .extensions import db
from .localtime import month_bounds
from .models import Appointment, AppointmentStatus, OrderItem, Tutor


def session_earnings():
    """SQL: what one session earns its tutor (needs Tutor joined and OrderItem outer-joined)."""
    at_current_rate = (Tutor.hourly_rate_cents * Appointment.duration_minutes + 30) // 60
    return case(
        (OrderItem.tutor_id == Appointment.tutor_id, OrderItem.tutor_earnings_cents),
        else_=at_current_rate,
    )


def sessions(*columns):
    """SELECT `columns` FROM appointments, with their tutor and (outer) order item joined."""
    return (
        select(*columns)
        .select_from(Appointment)
        .join(Tutor, Tutor.id == Appointment.tutor_id)
        .outerjoin(OrderItem, OrderItem.id == Appointment.order_item_id)
    )


def payable():
    """SQL condition: the session counts on its month's statement."""
    return Appointment.status == AppointmentStatus.COMPLETED.value


def in_month(tutor_id, start):
    """SQL condition: the tutor's sessions starting in the local month beginning on `start`."""
    begins, ends = month_bounds(start)
    return and_(Appointment.tutor_id == tutor_id, Appointment.starts_at >= begins, Appointment.starts_at < ends)


def month_totals(tutor_ids, months):
    """{(tutor id, first day of month): (minutes, earnings)} for payable sessions, in one query."""
    if not months or not tutor_ids:
        return {}
    begins, _ = month_bounds(months[0])
    _, ends = month_bounds(months[-1])
    # Each session is placed in its local month by comparing with the months' UTC boundaries.
    month_index = case(*[(Appointment.starts_at < month_bounds(m)[1], i) for i, m in enumerate(months)])
    rows = db.session.execute(
        sessions(
            Appointment.tutor_id,
            month_index,
            func.sum(Appointment.duration_minutes),
            func.sum(session_earnings()),
        )
        .where(
            Appointment.tutor_id.in_(tutor_ids),
            payable(),
            Appointment.starts_at >= begins,
            Appointment.starts_at < ends,
        )
        .group_by(Appointment.tutor_id, month_index)
    )
    return {(tutor_id, months[index]): (int(minutes), int(cents)) for tutor_id, index, minutes, cents in rows}

"""What tutors earn: which sessions count, for how much, and their totals per local month (SQL).

Shared by the payout statements, the tutor's earnings pages and the revenue report's tutor cost.

A session's earnings are its base earnings (what it pays at full rate) times the tutor's share
of its attendance mark (SPEC §10: 100 % présent, the policy's share for a no-show or a late
cancellation, copied onto the session when it is marked), rounded half up to the cent with
integer arithmetic — ``(base × share + 50) / 100`` in integer division — so that SQLite and
PostgreSQL give the same cents.
"""

from sqlalchemy import and_, case, func, select

from .extensions import db
from .localtime import month_bounds
from .models import Appointment, AppointmentStatus, OrderItem, Tutor

#: The share of an unmarked session (never payable; a cancelled unmarked session, for refunds).
FULL_SHARE = 100


def base_earnings():
    """SQL: what one session earns its tutor at full rate (needs Tutor joined and OrderItem outer-joined)."""
    at_current_rate = (Tutor.hourly_rate_cents * Appointment.duration_minutes + 30) // 60
    return case(
        (OrderItem.tutor_id == Appointment.tutor_id, OrderItem.tutor_earnings_cents),
        else_=at_current_rate,
    )


def with_share(base, share_percent):
    """SQL: `base` cents × `share_percent` / 100, rounded half up to the cent (integer division)."""
    return (base * share_percent + 50) // 100


def session_earnings():
    """SQL: what one session pays its tutor: base earnings × the share of its mark."""
    return with_share(base_earnings(), func.coalesce(Appointment.tutor_share_percent, FULL_SHARE))


def sessions(*columns):
    """SELECT `columns` FROM appointments, with their tutor and (outer) order item joined."""
    return (
        select(*columns)
        .select_from(Appointment)
        .join(Tutor, Tutor.id == Appointment.tutor_id)
        .outerjoin(OrderItem, OrderItem.id == Appointment.order_item_id)
    )


def of_session(appointment_id):
    """What one session pays its tutor under its current mark, in cents."""
    return db.session.scalar(sessions(session_earnings()).where(Appointment.id == appointment_id))


def payable():
    """SQL condition: the session counts on its month's statement (marked and not cancelled since)."""
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


def month_total(tutor_id, start):
    """(minutes, earnings) of one tutor's payable sessions in the local month beginning on `start`."""
    return month_totals([tutor_id], [start]).get((tutor_id, start), (0, 0))


def scheduled_count(tutor_id, start):
    """How many of the tutor's sessions of a local month are still waiting to be marked (scheduled)."""
    return db.session.scalar(
        select(func.count())
        .select_from(Appointment)
        .where(in_month(tutor_id, start), Appointment.status == AppointmentStatus.SCHEDULED.value)
    )

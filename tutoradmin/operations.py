"""What the office deals with today: the overview's lists (SPEC §9).

Each list is one query, bounded, with what its page shows loaded alongside: the overview's
query count does not grow with the data.
"""

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import joinedload, selectinload

from . import outbox, support
from .extensions import db
from .formatting import local_datetime
from .localtime import local_day_bounds
from .models import (
    Appointment,
    AppointmentChange,
    ChangeKind,
    Order,
    OrderItem,
    OutboxEvent,
    Ticket,
    TicketMessage,
    User,
)

#: How many lines each overview list shows at most (its page lists the rest).
LIST_LIMIT = 10

CHANGE_LABELS = {
    ChangeKind.CREATED.value: "Réservée",
    ChangeKind.CANCELLED.value: "Annulée",
    ChangeKind.RESCHEDULED.value: "Déplacée",
    ChangeKind.COMPLETED.value: "Terminée",
    ChangeKind.MEETING_LINK.value: "Lien de rencontre modifié",
    ChangeKind.REFUNDED.value: "Remboursée",
    ChangeKind.RATED.value: "Évaluée",
    ChangeKind.ATTENDANCE.value: "Présence notée",
}


def todays_sessions(day):
    """The sessions of a local day, in time order, with their course, tutor and student."""
    start, end = local_day_bounds(day)
    return db.session.scalars(
        select(Appointment)
        .where(Appointment.starts_at >= start, Appointment.starts_at < end)
        .options(joinedload(Appointment.course), joinedload(Appointment.tutor), joinedload(Appointment.student))
        .order_by(Appointment.starts_at, Appointment.id)
    ).all()


def unanswered_tickets(limit=LIST_LIMIT):
    """(ticket, waiting since) for the tickets the office owes a reply, longest wait first.

    The wait starts at the student's latest public message, or at the ticket's opening.
    """
    last_message = (
        select(func.max(TicketMessage.created_at))
        .where(TicketMessage.ticket_id == Ticket.id, TicketMessage.is_internal.is_(False))
        .correlate(Ticket)
        .scalar_subquery()
    )
    waiting_since = func.coalesce(last_message, Ticket.created_at).label("waiting_since")
    rows = db.session.execute(
        select(Ticket, waiting_since)
        .where(support.unanswered())
        .options(joinedload(Ticket.student))
        .order_by(waiting_since, Ticket.id)
        .limit(limit)
    ).all()
    return [(ticket, since) for ticket, since in rows]


def flagged_orders(limit=LIST_LIMIT):
    """Orders waiting for the office (a dispute, a refund at the gateway, a lost slot, a late payment).

    An order counts when it is flagged itself or one of its sessions is; oldest flag first,
    with the flagged sessions loaded for their reasons. The query starts from the flagged rows
    (partial indexes, migration 0012), so its cost follows the flags, not the number of orders.
    """
    flags = union_all(
        select(Order.id.label("order_id"), Order.flagged_at.label("at")).where(Order.flagged_at.is_not(None)),
        select(OrderItem.order_id, OrderItem.flagged_at).where(OrderItem.flagged_at.is_not(None)),
    ).subquery()
    first_flags = select(flags.c.order_id, func.min(flags.c.at).label("since")).group_by(flags.c.order_id).subquery()
    return db.session.scalars(
        select(Order)
        .join(first_flags, first_flags.c.order_id == Order.id)
        .options(joinedload(Order.user), selectinload(Order.items))
        .order_by(first_flags.c.since, Order.id)
        .limit(limit)
    ).all()


def flag_reasons(order):
    """Why an order is flagged: its own reason and its flagged sessions'."""
    reasons = [order.flag_reason or "sans motif"] if order.flagged_at else []
    return reasons + [item.flag_reason or "séance signalée" for item in order.items if item.flagged_at]


def deliveries_needing_attention(limit=LIST_LIMIT):
    """Outgoing deliveries that gave up (failed, refused by the receiver), most recent first."""
    return db.session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.status.in_(outbox.NEEDS_ATTENTION))
        .order_by(OutboxEvent.created_at.desc(), OutboxEvent.id.desc())
        .limit(limit)
    ).all()


def recent_orders(limit=LIST_LIMIT):
    return db.session.scalars(
        select(Order).options(joinedload(Order.user)).order_by(Order.created_at.desc(), Order.id.desc()).limit(limit)
    ).all()


def appointment_history(appointment):
    """An appointment's changes, oldest first, as (when, what, who, details) in French."""
    rows = db.session.execute(
        select(AppointmentChange, User)
        .outerjoin(User, User.id == AppointmentChange.actor_id)
        .where(AppointmentChange.appointment_id == appointment.id)
        .order_by(AppointmentChange.created_at, AppointmentChange.id)
    ).all()
    history = []
    for change, actor in rows:
        details = []
        if change.kind == ChangeKind.RESCHEDULED.value and change.new_starts_at:
            previous = local_datetime(change.previous_starts_at) if change.previous_starts_at else "—"
            details.append(f"du {previous} au {local_datetime(change.new_starts_at)}")
        elif change.new_starts_at and change.kind == ChangeKind.CREATED.value:
            details.append(f"pour le {local_datetime(change.new_starts_at)}")
        if change.reason:
            details.append(f"motif : {change.reason}")
        history.append(
            (
                change.created_at,
                CHANGE_LABELS.get(change.kind, change.kind),
                actor.full_name if actor is not None else "Automatique",
                " — ".join(details),
            )
        )
    return history

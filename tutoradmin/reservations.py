"""A student's reservations, as the dashboard lists them: a fixed number of queries whatever their number."""

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .extensions import db
from .models import (
    Appointment,
    AppointmentChange,
    CreditEntry,
    CreditKind,
    Refund,
    RefundItem,
    RefundStatus,
    Tutor,
    User,
)
from .pagination import paginate

PAST_PER_PAGE = 10


def _listed():
    return select(Appointment).options(
        selectinload(Appointment.course), selectinload(Appointment.tutor), selectinload(Appointment.meeting_link)
    )


def upcoming_appointments(student_id, now):
    """Sessions not over yet (cancelled ones included), soonest first."""
    return db.session.scalars(
        _listed()
        .where(Appointment.student_id == student_id, Appointment.ends_at > now)
        .order_by(Appointment.starts_at, Appointment.id)
    ).all()


def past_appointments(student_id, now, page):
    """One page of the sessions that are over, latest first."""
    query = (
        _listed()
        .where(Appointment.student_id == student_id, Appointment.ends_at <= now)
        .order_by(Appointment.starts_at.desc(), Appointment.id.desc())
    )
    return paginate(query, page, PAST_PER_PAGE)


def given_back(appointments):
    """{appointment id: (credit cents, card refund cents)} for the cancelled ones among `appointments`."""
    cancelled = [a for a in appointments if a.cancelled_at is not None]
    if not cancelled:
        return {}
    ids = [a.id for a in cancelled]
    credited = dict(
        db.session.execute(
            select(CreditEntry.appointment_id, func.sum(CreditEntry.amount_cents))
            .where(CreditEntry.appointment_id.in_(ids), CreditEntry.kind == CreditKind.CREDIT.value)
            .group_by(CreditEntry.appointment_id)
        ).all()
    )
    by_item = {a.order_item_id: a.id for a in cancelled if a.order_item_id is not None}
    refunded = defaultdict(int)
    if by_item:
        rows = db.session.execute(
            select(RefundItem.order_item_id, func.sum(RefundItem.amount_cents))
            .join(Refund, Refund.id == RefundItem.refund_id)
            .where(
                RefundItem.order_item_id.in_(list(by_item)),
                RefundItem.cancels_appointment.is_(True),
                Refund.status != RefundStatus.FAILED.value,
            )
            .group_by(RefundItem.order_item_id)
        )
        for item_id, cents in rows:
            refunded[by_item[item_id]] += int(cents or 0)
    return {i: (int(credited.get(i) or 0), refunded[i]) for i in ids}


def history(appointment):
    """The session's changes, oldest first, with who made them and the tutors named (three queries)."""
    changes = db.session.scalars(
        select(AppointmentChange)
        .where(AppointmentChange.appointment_id == appointment.id)
        .order_by(AppointmentChange.created_at, AppointmentChange.id)
    ).all()
    actor_ids = {c.actor_id for c in changes if c.actor_id is not None}
    tutor_ids = {c.previous_tutor_id for c in changes if c.previous_tutor_id is not None}
    actors = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(actor_ids)))} if actor_ids else {}
    tutors = {t.id: t for t in db.session.scalars(select(Tutor).where(Tutor.id.in_(tutor_ids)))} if tutor_ids else {}
    return [(change, actors.get(change.actor_id), tutors.get(change.previous_tutor_id)) for change in changes]

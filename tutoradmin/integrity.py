"""The invariants the booking and money rules promise, checked against the data as it is.

Each check is one SQL query returning the offending rows: `flask check-integrity` runs them all
(for cron and after an incident) and the tests run the same ones after their scenarios. A clean
database returns nothing from any of them.
"""

from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased

from .extensions import db
from .fulfilment import BOOKED_STATUSES
from .models import (
    OCCUPYING_STATUSES,
    Appointment,
    CartItem,
    CreditEntry,
    CreditKind,
    Hold,
    Order,
    Payment,
    PaymentStatus,
    Refund,
    RefundItem,
    SlotLock,
)
from .occupancy import CELL

CELL_MINUTES = int(CELL.total_seconds() // 60)


@dataclass(frozen=True)
class Check:
    name: str
    label: str
    find: object

    def offenders(self, connection):
        """Rows breaking the invariant (empty when it holds)."""
        found = self.find(connection)
        return found if isinstance(found, list) else connection.execute(found).all()


def _covers(owner):
    """SQL condition: the cell lies within its owner's time, for its owner's tutor."""
    return and_(
        SlotLock.tutor_id == owner.tutor_id, SlotLock.cell_start >= owner.starts_at, SlotLock.cell_start < owner.ends_at
    )


def _appointments_without_their_cells(_connection):
    owned = func.count(SlotLock.id)
    fitting = func.coalesce(func.sum(case((_covers(Appointment), 1), else_=0)), 0)
    expected = Appointment.duration_minutes / CELL_MINUTES
    return (
        select(Appointment.id, owned.label("cells"), expected.label("expected"))
        .outerjoin(SlotLock, SlotLock.appointment_id == Appointment.id)
        .where(Appointment.occupying())
        .group_by(Appointment.id, Appointment.duration_minutes)
        .having(or_(owned != expected, fitting != expected))
        .order_by(Appointment.id)
    )


def _holds_without_their_cells(connection):
    owned = func.count(SlotLock.id)
    fitting = func.coalesce(func.sum(case((_covers(Hold), 1), else_=0)), 0)
    rows = connection.execute(
        select(Hold.id, Hold.starts_at, Hold.ends_at, owned.label("cells"), fitting.label("fitting"))
        .outerjoin(SlotLock, SlotLock.hold_id == Hold.id)
        .group_by(Hold.id, Hold.starts_at, Hold.ends_at)
        .order_by(Hold.id)
    ).all()
    # Holds are few (15 minutes each) and have no duration column: their length in cells is counted here.
    return [(r.id, r.cells) for r in rows if not r.cells == r.fitting == (r.ends_at - r.starts_at) / CELL]


def _cells_without_rightful_owner(_connection):
    """Cells of a cancelled session, or outside their owner's time or tutor."""
    return (
        select(SlotLock.id, SlotLock.tutor_id, SlotLock.cell_start)
        .outerjoin(Appointment, Appointment.id == SlotLock.appointment_id)
        .outerjoin(Hold, Hold.id == SlotLock.hold_id)
        .where(
            or_(
                and_(SlotLock.appointment_id.is_not(None), or_(~Appointment.occupying(), ~_covers(Appointment))),
                and_(SlotLock.hold_id.is_not(None), ~_covers(Hold)),
            )
        )
        .order_by(SlotLock.id)
    )


def _overlapping_appointments(_connection):
    other = aliased(Appointment)
    return (
        select(Appointment.id, other.id.label("other_id"), Appointment.tutor_id)
        .join(
            other,
            and_(
                other.tutor_id == Appointment.tutor_id,
                other.id > Appointment.id,
                other.starts_at < Appointment.ends_at,
                Appointment.starts_at < other.ends_at,
            ),
        )
        .where(Appointment.occupying(), other.status.in_(OCCUPYING_STATUSES))
        .order_by(Appointment.id, other.id)
    )


def _holds_without_cart_item(_connection):
    in_cart = select(CartItem.id).where(CartItem.hold_id == Hold.id)
    return select(Hold.id, Hold.tutor_id, Hold.expires_at).where(~in_cart.exists()).order_by(Hold.id)


def _paid_orders_without_payment(_connection):
    succeeded = select(Payment.id).where(Payment.order_id == Order.id, Payment.status == PaymentStatus.SUCCEEDED.value)
    return (
        select(Order.id, Order.status, Order.total_cents)
        .where(Order.status.in_(BOOKED_STATUSES), Order.total_cents > 0, ~succeeded.exists())
        .order_by(Order.id)
    )


def _refunds_not_matching_their_items(_connection):
    """Refunds whose parts per order item do not add up to the refund (each item must know its share).

    A refund without any part (written by hand, before refunds were split by item) is left alone.
    """
    parts = func.sum(RefundItem.amount_cents)
    return (
        select(Refund.id, Refund.amount_cents, parts.label("items_cents"))
        .join(RefundItem, RefundItem.refund_id == Refund.id)
        .group_by(Refund.id, Refund.amount_cents)
        .having(parts != Refund.amount_cents)
        .order_by(Refund.id)
    )


def _negative_credit_balances(_connection):
    signed = case(
        (CreditEntry.kind == CreditKind.CREDIT.value, CreditEntry.amount_cents), else_=-CreditEntry.amount_cents
    )
    balance = func.sum(signed)
    return (
        select(CreditEntry.user_id, balance.label("balance_cents"))
        .group_by(CreditEntry.user_id)
        .having(balance < 0)
        .order_by(CreditEntry.user_id)
    )


CHECKS = (
    Check(
        "appointments_without_their_cells",
        "Séances sans exactement leurs cellules de temps",
        _appointments_without_their_cells,
    ),
    Check(
        "holds_without_their_cells", "Réservations temporaires sans leurs cellules de temps", _holds_without_their_cells
    ),
    Check("cells_without_owner", "Cellules de temps sans propriétaire légitime", _cells_without_rightful_owner),
    Check("overlapping_appointments", "Séances d'un même tuteur qui se chevauchent", _overlapping_appointments),
    Check("holds_without_cart_item", "Réservations temporaires sans article de panier", _holds_without_cart_item),
    Check("paid_orders_without_payment", "Commandes payées sans paiement réussi", _paid_orders_without_payment),
    Check("negative_credit_balances", "Soldes de crédit négatifs", _negative_credit_balances),
    Check(
        "refunds_not_matching_their_items",
        "Remboursements dont les parts par séance ne font pas le montant",
        _refunds_not_matching_their_items,
    ),
)


def broken_invariants():
    """{check name: offending rows} for every invariant that does not hold, read from one snapshot.

    The checks run on a connection of their own in a repeatable-read transaction, so that they see
    the committed data of one instant and never half of a booking committed between two of them.
    """
    found = {}
    # SQLite's transactions are serializable already.
    isolation = "REPEATABLE READ" if db.engine.dialect.name == "postgresql" else "SERIALIZABLE"
    with db.engine.connect().execution_options(isolation_level=isolation) as connection:
        for check in CHECKS:
            rows = check.offenders(connection)
            if rows:
                found[check.name] = rows
    return found

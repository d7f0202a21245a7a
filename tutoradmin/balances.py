"""What each order item paid by card and what has been refunded of it: the read side of refunds."""

from dataclasses import dataclass

from sqlalchemy import case, func, or_, select

from .extensions import db
from .models import AppointmentStatus, OrderStatus, Refund, RefundItem, RefundStatus

REFUNDABLE_STATUSES = (OrderStatus.PAID.value, OrderStatus.PARTIALLY_REFUNDED.value)
#: Refunds that count against what the card paid: given back, or accepted by the gateway and on their way.
COUNTED_REFUND_STATUSES = (RefundStatus.PENDING.value, RefundStatus.SUCCEEDED.value)


@dataclass(frozen=True)
class ItemBalance:
    """An order item, what its card part was and what of it is still refundable."""

    item: object
    card_cents: int
    refunded_cents: int
    #: Cancelled for a credit (not by a refund): the rest of its card part was given as credit already.
    credited: bool = False

    @property
    def refundable_cents(self):
        return 0 if self.credited else self.card_cents - self.refunded_cents

    @property
    def cancellable(self):
        appointment = self.item.appointment
        return appointment is not None and appointment.status != AppointmentStatus.CANCELLED


def refunded_cents(order):
    """What went back to the card, or is on its way there, for this order."""
    return sum(r.amount_cents for r in order.refunds if r.status in COUNTED_REFUND_STATUSES)


def refundable_cents(order, balances=None):
    """What the card can still get back from this order: its sessions' refundable parts."""
    return sum(max(0, b.refundable_cents) for b in (balances or item_balances(order)))


def open_to_refund_cents(order, balances=None):
    """What the refund page may still offer: the refundable cents of a paid order, else 0."""
    return refundable_cents(order, balances) if order.status in REFUNDABLE_STATUSES else 0


def order_status_after_refunds(order, balances=None):
    """paid, partially_refunded or refunded: what the order's counted refunds leave of it."""
    counted = db.session.scalar(
        select(Refund.id).where(Refund.order_id == order.id, Refund.status.in_(COUNTED_REFUND_STATUSES)).limit(1)
    )
    if counted is None:
        return OrderStatus.PAID.value
    return (OrderStatus.REFUNDED if refundable_cents(order, balances) == 0 else OrderStatus.PARTIALLY_REFUNDED).value


def _refunded(condition):
    """{order item id: (cents refunded to the card, whether a refund cancelled its session)}.

    Pending refunds count as refunded. A refund the gateway accepted (it has a gateway id) cancelled
    its sessions even if it failed later: the session stays cancelled and its card part refundable again.
    """
    counted = Refund.status.in_(COUNTED_REFUND_STATUSES)
    cancelled = func.max(case((RefundItem.cancels_appointment.is_(True), 1), else_=0))
    cents = func.sum(case((counted, RefundItem.amount_cents), else_=0))
    rows = db.session.execute(
        select(RefundItem.order_item_id, cents, cancelled)
        .join(Refund, Refund.id == RefundItem.refund_id)
        .where(condition, or_(counted, Refund.gateway_refund_id.is_not(None)))
        .group_by(RefundItem.order_item_id)
    )
    return {item_id: (int(cents), bool(by_refund)) for item_id, cents, by_refund in rows}


def refunded_item_cents(item):
    """What has been refunded to the card for one order item."""
    return _refunded(RefundItem.order_item_id == item.id).get(item.id, (0, False))[0]


def item_balances(order):
    """Each item of the order with its card part and what has already been refunded of it."""
    refunded = _refunded(Refund.order_id == order.id)
    balances = []
    for item in order.items:
        cents, cancelled_by_refund = refunded.get(item.id, (0, False))
        appointment = item.appointment
        credited = (
            appointment is not None and appointment.status == AppointmentStatus.CANCELLED and not cancelled_by_refund
        )
        balances.append(ItemBalance(item, item.card_cents, cents, credited))
    return balances

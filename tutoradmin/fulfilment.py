"""What a payment's outcome does to its order: book the sessions, or leave it retryable."""

from sqlalchemy import delete, select, update

from . import coupons, credits, outbox, refunds
from .accounts import announce_signup
from .extensions import db
from .formatting import local_datetime
from .models import (
    Appointment,
    AppointmentChange,
    Cart,
    CartItem,
    ChangeKind,
    CouponRedemption,
    CreditKind,
    Hold,
    Order,
    OrderStatus,
    OutboxEventType,
    Payment,
    PaymentStatus,
    Refund,
    RefundItem,
    SlotLock,
)
from .occupancy import SlotTaken, occupy

SLOT_LOST = "Créneau pris par quelqu'un d'autre avant la confirmation du paiement : remboursé automatiquement."
BOOKED_STATUSES = (OrderStatus.PAID.value, OrderStatus.PARTIALLY_REFUNDED.value, OrderStatus.REFUNDED.value)


def _locked(model, row_id):
    """The row, locked until commit on PostgreSQL so that concurrent events queue up."""
    return db.session.get(model, row_id, with_for_update=True, populate_existing=True)


def _take_time(item, appointment):
    """Give the item's held cells to its appointment, or lock them afresh if the hold lapsed."""
    hold = db.session.get(Hold, item.hold_id) if item.hold_id else None
    if hold is not None and (hold.tutor_id, hold.starts_at, hold.ends_at) == (item.tutor_id, item.starts_at, item.ends_at):
        db.session.execute(
            update(SlotLock).where(SlotLock.hold_id == hold.id).values(hold_id=None, appointment_id=appointment.id)
        )
        db.session.execute(delete(Hold).where(Hold.id == hold.id))
        return
    occupy(item.tutor_id, item.starts_at, item.ends_at, appointment_id=appointment.id)


def _refund_lost_item(order, item, now, gateway):
    """Refund the card part of a session whose slot was taken, give back its credit part, flag it.

    Returns whether the money is back; if the gateway refused, the office refunds it from the order.
    """
    item.flagged_at, item.flag_reason = now, SLOT_LOST
    card_part = item.card_cents
    if item.credit_cents:
        credits.add_entry(order.user_id, CreditKind.CREDIT, item.credit_cents, SLOT_LOST, now, order_id=order.id)
    if card_part <= 0:
        return True
    payment = next((p for p in order.payments if p.status == PaymentStatus.SUCCEEDED), None)
    key = f"order-item-{item.id}-slot-lost"
    refund = Refund(order=order, payment_id=payment.id if payment else None, amount_cents=card_part,
                    reason=SLOT_LOST, idempotency_key=key, created_at=now)
    refund.items.append(RefundItem(order_item_id=item.id, amount_cents=card_part, cancels_appointment=True))
    db.session.add(refund)
    return refunds.send(refund, payment, gateway, now)


def book_order(order, now, gateway):
    """Mark the order paid and book one appointment per item, in the caller's transaction."""
    lost, given_back = [], 0
    for item in order.items:
        appointment = Appointment(
            order_item_id=item.id, student_id=order.user_id, tutor_id=item.tutor_id, course_id=item.course_id,
            starts_at=item.starts_at, ends_at=item.ends_at, duration_minutes=item.duration_minutes,
            created_at=now,
        )
        db.session.add(appointment)
        db.session.flush()
        try:
            _take_time(item, appointment)
        except SlotTaken:
            db.session.delete(appointment)
            db.session.flush()
            lost.append(item)
            given_back += _refund_lost_item(order, item, now, gateway)
            continue
        db.session.add(AppointmentChange(appointment_id=appointment.id, kind=ChangeKind.CREATED.value,
                                         new_starts_at=item.starts_at, created_at=now))
    order.paid_at = now
    # A refund the gateway refused leaves the order refundable from the refund page.
    if not given_back:
        order.status = OrderStatus.PAID.value
    else:
        order.status = (OrderStatus.REFUNDED if given_back == len(order.items) else OrderStatus.PARTIALLY_REFUNDED).value
    if order.coupon_id is not None:
        db.session.add(CouponRedemption(coupon_id=order.coupon_id, order_id=order.id, user_id=order.user_id,
                                        discount_cents=order.discount_cents, created_at=now))
    if order.credit_cents:
        credits.add_entry(order.user_id, CreditKind.DEBIT, order.credit_cents,
                          f"Utilisé pour la commande #{order.id}", now, order_id=order.id)
    _empty_cart(order)
    # A guest's account is announced once its first booking is paid (a no-op for existing accounts).
    announce_signup(order.user, now)
    outbox.emit(OutboxEventType.BOOKING_CREATED, _booking_payload(order, lost), f"booking.created:order:{order.id}", now)
    return lost


def _empty_cart(order):
    """Take the paid sessions out of the cart, and its coupon, which this order used."""
    if order.cart_id is None:
        return
    db.session.execute(update(Cart).where(Cart.id == order.cart_id).values(coupon_id=None))
    for item in order.items:
        db.session.execute(delete(CartItem).where(
            CartItem.cart_id == order.cart_id, CartItem.course_id == item.course_id,
            CartItem.starts_at == item.starts_at, CartItem.duration_minutes == item.duration_minutes,
        ))


def _booking_payload(order, lost):
    return {
        "order_id": order.id,
        "email": order.user.email,
        "first_name": order.user.first_name,
        "sessions": [
            {"course": i.course.title, "starts_at": i.starts_at.isoformat(), "local": local_datetime(i.starts_at),
             "duration_minutes": i.duration_minutes, "refunded": i in lost}
            for i in order.items
        ],
    }


def _payment(payment_id):
    """The payment, locked after its order: abandoning an order locks them in that order too (no deadlock)."""
    found = db.session.execute(
        select(Payment.id, Payment.order_id).where(Payment.gateway_payment_id == payment_id)
    ).first()
    if found is None:
        return None
    _locked(Order, found.order_id)
    return _locked(Payment, found.id)


def payment_succeeded(payment_id, now, gateway):
    """Book the order of a successful payment; replays and late events change nothing."""
    payment = _payment(payment_id)
    if payment is None or payment.status == PaymentStatus.SUCCEEDED:
        return None
    order = payment.order
    payment.status, payment.succeeded_at, payment.failure_message = PaymentStatus.SUCCEEDED.value, now, None
    if order.status in BOOKED_STATUSES:
        return order
    if order.status == OrderStatus.FAILED and order.coupon_id is not None:
        # An abandoned order paid after all (an old tab): the card was charged, so the booking stands
        # and its coupon use, given back when it was abandoned, is counted again — unless others have
        # used the coupon up meanwhile: the limit stays a limit, and the redemption is recorded anyway.
        coupons.take_use(order.coupon_id)
    book_order(order, now, gateway)
    return order


def payment_failed(payment_id, message, now):
    """Record a failed attempt; the order stays pending and retryable while its holds live."""
    payment = _payment(payment_id)
    if payment is None or payment.status == PaymentStatus.SUCCEEDED:
        return None
    payment.status, payment.failure_message = PaymentStatus.FAILED.value, message
    return payment.order

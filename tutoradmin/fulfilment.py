"""What a payment's outcome does to its order: book the sessions, or leave it retryable."""

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from . import coupons, credits, events, outbox, receipts, refunds
from .accounts import announce_signup
from .extensions import db
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
)
from .occupancy import SlotTaken, cell_count, occupy, release_appointment, transfer_hold_to_appointment

SLOT_LOST = "Créneau pris par quelqu'un d'autre avant la confirmation du paiement : remboursé automatiquement."
CREDIT_SPENT = (
    "Commande payée après son abandon, alors que le crédit qu'elle utilisait avait servi à une autre "
    "commande : paiement par carte remboursé, aucune séance réservée."
)
BOOKED_STATUSES = (OrderStatus.PAID.value, OrderStatus.PARTIALLY_REFUNDED.value, OrderStatus.REFUNDED.value)


def _locked(model, row_id):
    """The row, locked until commit on PostgreSQL so that concurrent events queue up."""
    return db.session.get(model, row_id, with_for_update=True, populate_existing=True)


def _lock_holds(order):
    """Lock the order's holds that still exist, in id order, so the hold sweep leaves them to us.

    The sweep skips locked holds (see `holds.sweep_expired_holds`), so a hold that lapsed while its
    buyer was paying keeps its cells until they pass to the appointment; a hold the sweep deleted
    first is simply gone, and its time is taken afresh or lost.
    """
    hold_ids = [item.hold_id for item in order.items if item.hold_id is not None]
    if not hold_ids:
        return {}
    holds = db.session.scalars(
        select(Hold)
        .where(Hold.id.in_(hold_ids))
        .order_by(Hold.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return {hold.id: hold for hold in holds}


def _take_time(item, appointment, hold):
    """Give the appointment every cell of its time: the hold's, or fresh ones; else SlotTaken.

    Never fewer: a handover that moved fewer cells than the session covers is undone and the
    time taken afresh, which either gets all of it or raises SlotTaken.
    """
    if hold is not None and (hold.tutor_id, hold.starts_at, hold.ends_at) == (
        item.tutor_id,
        item.starts_at,
        item.ends_at,
    ):
        moved = transfer_hold_to_appointment(hold.id, appointment.id)
        db.session.execute(delete(Hold).where(Hold.id == hold.id))
        if moved == cell_count(item.starts_at, item.ends_at):
            return
        release_appointment(appointment.id)
    occupy(item.tutor_id, item.starts_at, item.ends_at, appointment_id=appointment.id)


def _book_item(order, item, hold, now):
    """The item's appointment, owning all its cells, or SlotTaken with nothing of it written.

    The appointment's insert may itself be refused by the database's overlap guard (see
    `Appointment`): a session of this tutor already occupies the time.
    """
    try:
        with db.session.begin_nested():
            appointment = Appointment(
                order_item_id=item.id,
                student_id=order.user_id,
                tutor_id=item.tutor_id,
                course_id=item.course_id,
                starts_at=item.starts_at,
                ends_at=item.ends_at,
                duration_minutes=item.duration_minutes,
                created_at=now,
            )
            db.session.add(appointment)
            db.session.flush()
            _take_time(item, appointment, hold)
    except IntegrityError as exc:
        raise SlotTaken() from exc
    return appointment


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
    refund = Refund(
        order=order,
        payment_id=payment.id if payment else None,
        amount_cents=card_part,
        reason=SLOT_LOST,
        idempotency_key=key,
        created_at=now,
    )
    refund.items.append(RefundItem(order_item_id=item.id, amount_cents=card_part, cancels_appointment=True))
    db.session.add(refund)
    return refunds.send(refund, payment, gateway, now)


def book_order(order, now, gateway):
    """Mark the order paid and book one appointment per item, in the caller's transaction."""
    lost, given_back = [], 0
    holds = _lock_holds(order)
    for item in order.items:
        hold = holds.get(item.hold_id)
        try:
            appointment = _book_item(order, item, hold, now)
        except SlotTaken:
            if hold is not None:  # what is left of it serves nobody now
                db.session.execute(delete(Hold).where(Hold.id == hold.id))
            lost.append(item)
            given_back += _refund_lost_item(order, item, now, gateway)
            continue
        db.session.add(
            AppointmentChange(
                appointment_id=appointment.id,
                kind=ChangeKind.CREATED.value,
                new_starts_at=item.starts_at,
                created_at=now,
            )
        )
    order.paid_at = now
    receipts.assign_receipt_number(order, now)
    # A refund the gateway refused leaves the order refundable from the refund page.
    if not given_back:
        order.status = OrderStatus.PAID.value
    else:
        order.status = (
            OrderStatus.REFUNDED if given_back == len(order.items) else OrderStatus.PARTIALLY_REFUNDED
        ).value
    if order.coupon_id is not None:
        db.session.add(
            CouponRedemption(
                coupon_id=order.coupon_id,
                order_id=order.id,
                user_id=order.user_id,
                discount_cents=order.discount_cents,
                created_at=now,
            )
        )
    if order.credit_cents:
        credits.add_entry(
            order.user_id,
            CreditKind.DEBIT,
            order.credit_cents,
            f"Utilisé pour la commande #{order.id}",
            now,
            order_id=order.id,
        )
    _empty_cart(order)
    # A guest's account is announced once its first booking is paid (a no-op for existing accounts).
    announce_signup(order.user, now)
    outbox.emit(
        OutboxEventType.BOOKING_CREATED,
        events.booking_created(order, lost),
        f"booking.created:order:{order.id}",
        now,
        ordering_key=f"student:{order.user_id}",
    )
    return lost


def _empty_cart(order):
    """Take the paid sessions out of the cart, and its coupon, which this order used."""
    if order.cart_id is None:
        return
    db.session.execute(update(Cart).where(Cart.id == order.cart_id).values(coupon_id=None))
    for item in order.items:
        db.session.execute(
            delete(CartItem).where(
                CartItem.cart_id == order.cart_id,
                CartItem.course_id == item.course_id,
                CartItem.starts_at == item.starts_at,
                CartItem.duration_minutes == item.duration_minutes,
            )
        )


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
    if order.status == OrderStatus.FAILED and order.credit_cents:
        # An abandoned order no longer reserves its credit: another order may have spent it since.
        credits.lock_ledger(order.user_id)
        if credits.available_cents(order.user_id) < order.credit_cents:
            refunds.refund_unbookable(order, payment, CREDIT_SPENT, now, gateway)
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

"""Checkout: turn a cart into a pending order and a payment (SPEC §7).

The amount is computed here, never taken from the client: held cart items,
less the coupon, less the student's credit, is what the card pays.
"""

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from . import coupons, credits, fulfilment
from .accounts import EMAIL_TAKEN, AccountError, check_password_strength, create_user
from .cart import lock_cart, summarize
from .coupons import USED_UP
from .errors import DomainError
from .extensions import db
from .models import Hold, Order, OrderItem, OrderStatus, Payment, PaymentStatus, Role, User, normalize_email
from .payments import GatewayError
from .pricing import allocate, tutor_earnings

EMPTY_CART = "Votre panier est vide ou vos réservations ont expiré."


class CheckoutError(DomainError):
    """Checkout refused before any charge; `code` tells the page what to offer."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Billing:
    first_name: str
    last_name: str
    email: str
    phone: str = ""
    address: str = ""
    city: str = ""
    province: str = "QC"
    postal_code: str = ""
    country: str = "CA"


@dataclass(frozen=True)
class Quote:
    """What the cart and checkout pages show: the cart, the credit applied and what the card pays."""

    summary: object
    credit_cents: int
    balance_cents: int = 0
    available_cents: int = 0

    @property
    def total_cents(self):
        return self.summary.total_cents - self.credit_cents

    @property
    def reserved_cents(self):
        """The student's credit that another pending order of theirs holds."""
        return self.balance_cents - self.available_cents


def quote(cart, user, now):
    """The cart's total and the credit it gets: what no other pending order of the student reserves."""
    summary = summarize(cart, now, student_id=user.id if user is not None else None)
    balance = available = 0
    if user is not None:
        balance = credits.balance_cents(user.id)
        # This cart's own pending order is replaced by the checkout: its reservation does not count.
        available = max(0, credits.available_cents(user.id, except_cart_id=cart.id if cart is not None else None))
    return Quote(summary, min(available, summary.total_cents), balance, available)


def last_billing(cart):
    """The billing details of the cart's latest unpaid order (a declined card), to fill the form again."""
    if cart is None:
        return None
    order = db.session.scalar(
        select(Order)
        .where(Order.cart_id == cart.id, Order.status.in_((OrderStatus.PENDING.value, OrderStatus.FAILED.value)))
        .order_by(Order.id.desc())
        .limit(1)
    )
    if order is None:
        return None
    return Billing(
        first_name=order.billing_first_name or "",
        last_name=order.billing_last_name or "",
        email=order.billing_email or "",
        phone=order.billing_phone or "",
        address=order.billing_address or "",
        city=order.billing_city or "",
        province=order.billing_province or "QC",
        postal_code=order.billing_postal_code or "",
        country=order.billing_country or "CA",
    )


def _pending_order(cart):
    return db.session.scalar(
        select(Order)
        .where(Order.cart_id == cart.id, Order.status == OrderStatus.PENDING.value)
        .order_by(Order.id.desc())
    )


def _same_contents(order, held, total_cents):
    wanted = sorted((i.course_id, i.starts_at, i.duration_minutes) for i in held)
    have = sorted((i.course_id, i.starts_at, i.duration_minutes) for i in order.items)
    return wanted == have and order.total_cents == total_cents


def release_coupon(order):
    """Give back the coupon use an abandoned order had reserved."""
    if order.coupon_id is not None:
        coupons.give_back_use(order.coupon_id)


def abandon(order, gateway):
    """Fail a pending order nobody will pay: give its coupon use back and stop its payment at the gateway."""
    order.status = OrderStatus.FAILED.value
    release_coupon(order)
    for payment in order.payments:
        if payment.status not in (PaymentStatus.PENDING, PaymentStatus.FAILED, PaymentStatus.REQUIRES_ACTION):
            continue
        try:
            gateway.cancel_payment(payment.gateway_payment_id, f"{payment.idempotency_key}-cancel")
        except GatewayError:
            # Already paying (or unreachable): its success event, if any, still books the order.
            continue
        payment.status = PaymentStatus.CANCELED.value


def expire_abandoned(now, gateway):
    """Fail the pending orders none of whose sessions is still held; returns how many."""
    live_hold = (
        select(OrderItem.id)
        .join(Hold, Hold.id == OrderItem.hold_id)
        .where(OrderItem.order_id == Order.id, Hold.active_at(now))
    )
    orders = db.session.scalars(
        select(Order).where(Order.status == OrderStatus.PENDING.value, ~live_hold.exists()).with_for_update()
    ).all()
    for order in orders:
        abandon(order, gateway)
    return len(orders)


def _reserve_coupon(coupon_id):
    """Count the coupon use now, so that its limit holds however many pay at once."""
    if not coupons.take_use(coupon_id):
        raise CheckoutError(USED_UP)


def _has_paid(user):
    return (
        db.session.scalar(
            select(Order.id).where(Order.user_id == user.id, Order.status.in_(fulfilment.BOOKED_STATUSES)).limit(1)
        )
        is not None
    )


def _unused_account(cart):
    """The account this guest cart's latest attempt created, while nobody has signed in or paid with it."""
    account = db.session.scalar(
        select(User)
        .join(Order, Order.user_id == User.id)
        .where(Order.cart_id == cart.id)
        .order_by(Order.id.desc())
        .limit(1)
    )
    if account is None or account.last_login_at is not None or _has_paid(account):
        return None
    return account


def _buyer(cart, user, billing, password):
    """The logged-in user, the account this cart's earlier attempt created, or a new one."""
    if user is not None:
        return user, False
    email = normalize_email(billing.email)
    earlier = db.session.scalar(
        select(User).join(Order, Order.user_id == User.id).where(Order.cart_id == cart.id, User.email == email)
    )
    unused = _unused_account(cart)
    if earlier is not None and earlier is not unused:
        # An account already in use (signed in from this cart before): it keeps its own password.
        return earlier, False
    if earlier is None and User.find_by_email(email) is not None:
        raise CheckoutError(EMAIL_TAKEN, code="email_taken")
    if unused is not None:
        # A retry after a decline: what the guest types now (a corrected email, another password)
        # replaces what the unused account was created with, instead of making a second account.
        if password:
            try:
                check_password_strength(password)
            except AccountError as exc:
                raise CheckoutError(str(exc)) from exc
            unused.set_password(password)
        unused.email, unused.first_name, unused.last_name = email, billing.first_name, billing.last_name
        unused.phone = billing.phone or None
        return unused, False
    try:
        created = create_user(
            email,
            password,
            role=Role.STUDENT,
            first_name=billing.first_name,
            last_name=billing.last_name,
            phone=billing.phone or None,
        )
    except AccountError as exc:
        raise CheckoutError(str(exc), code="email_taken" if str(exc) == EMAIL_TAKEN else None) from exc
    return created, True


def _build_order(cart, buyer, billing, current, now):
    summary = current.summary
    held = summary.held
    prices = [i.price_cents for i in held]
    discounts = allocate(summary.discount_cents, prices)
    credit_shares = allocate(current.credit_cents, [p - d for p, d in zip(prices, discounts, strict=True)])
    order = Order(
        user=buyer,
        cart_id=cart.id,
        status=OrderStatus.PENDING.value,
        subtotal_cents=summary.subtotal_cents,
        discount_cents=summary.discount_cents,
        credit_cents=current.credit_cents,
        total_cents=current.total_cents,
        coupon_id=summary.coupon.id if summary.coupon and summary.discount_cents else None,
        billing_first_name=billing.first_name,
        billing_last_name=billing.last_name,
        billing_email=normalize_email(billing.email),
        billing_phone=billing.phone,
        billing_address=billing.address,
        billing_city=billing.city,
        billing_province=billing.province,
        billing_postal_code=billing.postal_code,
        billing_country=billing.country,
        created_at=now,
    )
    for item, discount, credit in zip(held, discounts, credit_shares, strict=True):
        order.items.append(
            OrderItem(
                course_id=item.course_id,
                tutor_id=item.tutor_id,
                starts_at=item.starts_at,
                ends_at=item.ends_at,
                duration_minutes=item.duration_minutes,
                price_cents=item.price_cents,
                discount_cents=discount,
                credit_cents=credit,
                tutor_earnings_cents=tutor_earnings(item.tutor, item.duration_minutes),
                hold_id=item.hold_id,
            )
        )
    db.session.add(order)
    db.session.flush()
    return order


def start_checkout(cart, billing, now, gateway, user=None, password=None, save_card=False, payment_method_id=None):
    """Write the pending order (and a guest's account) and start its payment; the caller commits.

    Returns (order, payment or None). A zero amount books at once without the gateway.
    Starting again with an unchanged cart returns the same order and payment.
    """
    if user is not None:
        # The credit applied below must not be spent meanwhile by another checkout, a late payment
        # or the office (credits.adjust): they all take this lock before reading what is available.
        credits.lock_ledger(user.id)
    # A double submit waits here for the first one, then finds its order instead of making another.
    lock_cart(cart)
    summary = summarize(cart, now) if cart is not None else None
    if summary is None or not summary.held:
        raise CheckoutError(EMPTY_CART)
    if summary.coupon_problem:
        # The student chose this code: charging the full price without it would be a surprise.
        raise CheckoutError(summary.coupon_problem)
    held = summary.held
    buyer, created = _buyer(cart, user, billing, password)
    if user is None and not created:
        # A guest paying with the account an earlier attempt of this cart made: it may hold credit.
        credits.lock_ledger(buyer.id)
    current = quote(cart, buyer, now)
    if current.summary.coupon_problem:
        # Known only now for a guest (their account), or changed since the page was shown: another
        # checkout of this student, which had to release the account's lock first, took the code.
        raise CheckoutError(current.summary.coupon_problem)
    previous = _pending_order(cart)
    if previous is not None:
        if _same_contents(previous, held, current.total_cents) and previous.payments:
            last = previous.payments[-1]
            # A saved card chosen after a decline needs a payment of its own; anything else is a retry
            # in the same card page, or a double submit, which must not charge twice.
            if not (payment_method_id and last.status == PaymentStatus.FAILED):
                return previous, last
        abandon(previous, gateway)
    if current.summary.coupon is not None and current.summary.discount_cents:
        _reserve_coupon(current.summary.coupon.id)
    order = _build_order(cart, buyer, billing, current, now)
    if order.total_cents == 0:
        fulfilment.book_order(order, now, gateway)
        return order, None
    customer_id = gateway.ensure_customer(buyer)
    # Not the order id alone: SQLite gives a rolled-back attempt's id (a declined card) to the next attempt,
    # and Stripe would answer it with the first one's outcome instead of charging the new card.
    key = f"order-{order.id}-payment-{secrets.token_hex(4)}"
    started = gateway.create_payment(order, customer_id, key, save_card=save_card, payment_method_id=payment_method_id)
    # A saved card may need the customer to authenticate (3-D Secure) before the bank pays.
    status = PaymentStatus.REQUIRES_ACTION if started.status == "requires_action" else PaymentStatus.PENDING
    payment = Payment(
        order=order,
        provider=gateway.name,
        gateway_payment_id=started.payment_id,
        idempotency_key=key,
        amount_cents=order.total_cents,
        status=status.value,
        created_at=now,
    )
    db.session.add(payment)
    db.session.flush()
    return order, payment

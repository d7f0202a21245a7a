"""Checkout on the domain functions (SPEC §7): amounts, credit, coupons, guests, retries."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from tutoradmin import credits
from tutoradmin.accounts import EMAIL_TAKEN
from tutoradmin.checkout import EMPTY_CART, CheckoutError, start_checkout
from tutoradmin.fulfilment import payment_failed, payment_succeeded
from tutoradmin.models import (
    Appointment,
    AppointmentChange,
    CartItem,
    CouponRedemption,
    CreditEntry,
    CreditKind,
    Hold,
    Order,
    OrderItem,
    OutboxEvent,
    Payment,
    SlotLock,
    User,
)
from tutoradmin.payments import CARD_DECLINED

from .shopping import billing, count, fill, new_cart


class NoGateway:
    """A gateway that must not be called."""

    name = "simulated"

    def __getattr__(self, name):
        raise AssertionError(f"the gateway was called ({name}) for an order paid without a card")


@pytest.fixture
def student(db, make):
    return make.user(email="etudiant@example.com", first_name="Léa")


def give_credit(db, user, cents, now):
    credits.add_entry(user.id, CreditKind.CREDIT, cents, "Geste commercial", now)
    db.session.commit()


def debits(db, user):
    return db.session.scalars(
        select(CreditEntry.amount_cents).where(CreditEntry.user_id == user.id, CreditEntry.kind == CreditKind.DEBIT)
    ).all()


def outbox(db, event_type):
    return db.session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == event_type)).all()


# Amounts


def test_the_card_pays_the_cart_less_the_coupon_less_the_credit(db, make, offer, gateway, student, now):
    give_credit(db, student, 2000, now)
    coupon = make.coupon(kind="percent", value=10, max_redemptions=5)
    cart = new_cart(db, student)
    cart.coupon_id = coupon.id
    fill(cart, offer, 9, (11, 90), now=now)
    db.session.commit()

    order, payment = start_checkout(cart, billing(student.email), now, gateway, user=student)
    db.session.commit()

    # 4500 + 6750 = 11250; 10 % off = 1125; credit 2000; the card pays the rest.
    amounts = (order.subtotal_cents, order.discount_cents, order.credit_cents, order.total_cents)
    assert amounts == (11250, 1125, 2000, 8125)
    assert (payment.amount_cents, payment.status, payment.provider) == (8125, "pending", "simulated")
    items = order.items
    assert [(i.price_cents, i.duration_minutes) for i in items] == [(4500, 60), (6750, 90)]
    assert sum(i.discount_cents for i in items) == 1125 and sum(i.credit_cents for i in items) == 2000
    assert [i.tutor_earnings_cents for i in items] == [2500, 3750]  # the tutor's 25 $/h × 1 and × 1.5
    assert order.status == "pending" and order.coupon_id == coupon.id
    assert (order.billing_email, order.billing_city, order.billing_country) == (student.email, "Montréal", "CA")
    # The coupon use is reserved; nothing is redeemed, debited or booked before the money arrives.
    assert coupon.redemptions_count == 1
    assert count(db, CouponRedemption) == count(db, Appointment) == 0
    assert debits(db, student) == [] and credits.balance_cents(student.id) == 2000
    assert count(db, SlotLock, SlotLock.hold_id.is_not(None)) == 2 + 3


def test_credit_covering_part_of_the_amount_is_debited_only_when_the_card_pays(db, offer, gateway, student, now):
    give_credit(db, student, 1000, now)
    cart = new_cart(db, student)
    fill(cart, offer, 9, now=now)
    order, payment = start_checkout(cart, billing(student.email), now, gateway, user=student)
    db.session.commit()
    assert (order.credit_cents, payment.amount_cents) == (1000, 3500)

    payment_failed(payment.gateway_payment_id, CARD_DECLINED, now)
    db.session.commit()
    assert debits(db, student) == [] and credits.balance_cents(student.id) == 1000

    payment_succeeded(payment.gateway_payment_id, now, gateway)
    db.session.commit()
    entry = db.session.scalars(select(CreditEntry).where(CreditEntry.kind == CreditKind.DEBIT)).one()
    assert (entry.user_id, entry.amount_cents, entry.order_id) == (student.id, 1000, order.id)
    assert credits.balance_cents(student.id) == 0


def test_credit_covering_the_whole_amount_books_at_once_without_the_gateway(db, offer, student, now):
    give_credit(db, student, 10000, now)
    cart = new_cart(db, student)
    [item] = fill(cart, offer, (10, 120), now=now)
    hold_id = item.hold_id

    order, payment = start_checkout(cart, billing(student.email), now, NoGateway(), user=student)
    db.session.commit()

    assert payment is None and count(db, Payment) == 0
    assert (order.status, order.paid_at, order.credit_cents, order.total_cents) == ("paid", now, 9000, 0)
    appointment = db.session.scalars(select(Appointment)).one()
    assert (appointment.student_id, appointment.starts_at) == (student.id, offer.at(10))
    assert appointment.duration_minutes == 120
    assert db.session.scalars(select(SlotLock.appointment_id)).all() == [appointment.id] * 4
    assert db.session.get(Hold, hold_id) is None and count(db, CartItem) == 0
    assert debits(db, student) == [9000] and credits.balance_cents(student.id) == 1000
    assert len(outbox(db, "booking.created")) == 1


def test_a_coupon_covering_everything_books_without_a_card_and_is_redeemed(db, make, offer, student, now):
    coupon = make.coupon(kind="fixed", value=50000, max_redemptions=1)
    cart = new_cart(db, student)
    cart.coupon_id = coupon.id
    fill(cart, offer, 9, now=now)

    order, payment = start_checkout(cart, billing(student.email), now, NoGateway(), user=student)
    db.session.commit()

    assert payment is None and (order.status, order.discount_cents, order.total_cents) == ("paid", 4500, 0)
    redemption = db.session.scalars(select(CouponRedemption)).one()
    assert (redemption.coupon_id, redemption.order_id, redemption.discount_cents) == (coupon.id, order.id, 4500)
    assert coupon.redemptions_count == 1 and count(db, Appointment) == 1


# A successful payment


def test_a_successful_payment_books_every_item_in_one_transaction(db, make, offer, gateway, student, now):
    coupon = make.coupon(kind="fixed", value=1000)
    cart = new_cart(db, student)
    cart.coupon_id = coupon.id
    items = fill(cart, offer, 9, 13, now=now, tutor=offer.tutors[1])
    hold_ids = [i.hold_id for i in items]
    order, payment = start_checkout(cart, billing(student.email), now, gateway, user=student)
    db.session.commit()

    later = now + timedelta(minutes=3)
    assert payment_succeeded(payment.gateway_payment_id, later, gateway) is order
    db.session.commit()

    assert (order.status, order.paid_at) == ("paid", later)
    assert (payment.status, payment.succeeded_at) == ("succeeded", later)
    appointments = db.session.scalars(select(Appointment).order_by(Appointment.starts_at)).all()
    assert [(a.order_item_id, a.student_id, a.tutor_id, a.starts_at) for a in appointments] == [
        (i.id, student.id, offer.tutors[1].id, i.starts_at) for i in order.items
    ]
    assert [i.tutor_earnings_cents for i in order.items] == [2600, 2600]
    # The held cells now belong to the appointments; the holds and cart items are gone.
    assert sorted(db.session.scalars(select(SlotLock.appointment_id)).all()) == sorted([a.id for a in appointments] * 2)
    assert count(db, SlotLock, SlotLock.hold_id.is_not(None)) == 0
    assert db.session.scalars(select(Hold).where(Hold.id.in_(hold_ids))).all() == []
    assert count(db, CartItem) == 0
    assert count(db, AppointmentChange, AppointmentChange.kind == "created") == 2
    assert db.session.scalars(select(CouponRedemption.discount_cents)).all() == [1000]
    [event] = outbox(db, "booking.created")
    assert event.payload["order_id"] == order.id and len(event.payload["sessions"]) == 2


# Starting again


def test_starting_checkout_twice_with_the_same_cart_gives_one_order_and_one_payment(
    db, make, offer, gateway, student, now
):
    coupon = make.coupon(max_redemptions=3)
    cart = new_cart(db, student)
    cart.coupon_id = coupon.id
    fill(cart, offer, 9, 11, now=now)
    first = start_checkout(cart, billing(student.email), now, gateway, user=student)
    db.session.commit()
    second = start_checkout(cart, billing(student.email), now + timedelta(minutes=1), gateway, user=student)
    db.session.commit()

    assert second == first
    assert (count(db, Order), count(db, OrderItem), count(db, Payment)) == (1, 2, 1)
    assert coupon.redemptions_count == 1


def test_changing_the_cart_fails_the_old_order_and_releases_its_coupon(db, make, offer, gateway, student, now):
    coupon = make.coupon(max_redemptions=1)  # one use: the new order can only get it if the old one gave it back
    cart = new_cart(db, student)
    cart.coupon_id = coupon.id
    fill(cart, offer, 9, now=now)
    old, old_payment = start_checkout(cart, billing(student.email), now, gateway, user=student)
    db.session.commit()
    assert coupon.redemptions_count == 1

    fill(cart, offer, 13, now=now)
    new, payment = start_checkout(cart, billing(student.email), now, gateway, user=student)
    db.session.commit()

    assert new.id != old.id and payment.id != old_payment.id
    assert (old.status, new.status) == ("failed", "pending")
    assert [i.starts_at for i in new.items] == [offer.at(9), offer.at(13)]
    assert new.coupon_id == coupon.id and coupon.redemptions_count == 1

    cart.coupon_id = None
    newest, _ = start_checkout(cart, billing(student.email), now, gateway, user=student)
    db.session.commit()
    assert new.status == "failed" and newest.coupon_id is None
    assert coupon.redemptions_count == 0


def test_an_empty_or_expired_cart_cannot_be_checked_out(db, offer, gateway, now):
    empty, expired = new_cart(db), new_cart(db)
    fill(expired, offer, 9, now=now - timedelta(minutes=20))
    db.session.commit()
    for cart in (None, empty, expired):
        with pytest.raises(CheckoutError) as caught:
            start_checkout(cart, billing(), now, gateway, password="mot-de-passe-42")
        db.session.rollback()
        assert str(caught.value) == EMPTY_CART == "Votre panier est vide ou vos réservations ont expiré."
    assert (count(db, Order), count(db, Payment), count(db, User, User.role == "student")) == (0, 0, 0)


def test_a_coupon_used_up_since_it_was_applied_is_refused_before_payment(db, make, offer, gateway, student, now):
    coupon = make.coupon(max_redemptions=1)
    cart = new_cart(db, student)
    cart.coupon_id = coupon.id
    fill(cart, offer, 9, now=now)
    db.session.commit()
    # Someone else's checkout took the last use between the summary and the reservation.
    coupon.redemptions_count = 1
    db.session.commit()

    # The student chose the code: refused with the reason rather than charged the full price unawares.
    with pytest.raises(CheckoutError, match="limite d'utilisation"):
        start_checkout(cart, billing(student.email), now, gateway, user=student)
    db.session.rollback()
    assert coupon.redemptions_count == 1 and count(db, CouponRedemption) == 0 and count(db, Order) == 0


# Guests


def test_a_guest_checkout_creates_one_student_account_announced_once_paid(db, offer, gateway, now):
    cart = new_cart(db)
    fill(cart, offer, 9, now=now)
    order, payment = start_checkout(cart, billing("  Nouveau@Example.COM "), now, gateway, password="mot-de-passe-42")
    db.session.commit()
    again, _ = start_checkout(cart, billing("nouveau@example.com"), now, gateway, password="mot-de-passe-42")
    db.session.commit()

    user = db.session.scalars(select(User).where(User.role == "student")).one()
    assert (user.email, user.first_name, user.last_name) == ("nouveau@example.com", "Camille", "Tremblay")
    assert user.phone == "514 555-0101"
    assert user.check_password("mot-de-passe-42")
    assert again.id == order.id and order.user_id == user.id
    assert outbox(db, "signup") == []

    payment_succeeded(payment.gateway_payment_id, now, gateway)
    db.session.commit()
    [signup] = outbox(db, "signup")
    assert signup.payload["student"]["email"] == "nouveau@example.com"


@pytest.mark.parametrize("typed", ["deja@example.com", "DEJA@Example.com", "  Deja@EXAMPLE.com "])
def test_a_guest_using_the_email_of_an_account_is_refused_before_any_charge(db, make, offer, gateway, now, typed):
    make.user(email="deja@example.com")
    cart = new_cart(db)
    fill(cart, offer, 9, now=now)
    db.session.commit()

    with pytest.raises(CheckoutError) as caught:
        start_checkout(cart, billing(typed), now, gateway, password="mot-de-passe-42")
    db.session.rollback()

    assert (str(caught.value), caught.value.code) == (EMAIL_TAKEN, "email_taken")
    assert str(caught.value) == (
        "Un compte existe déjà avec cette adresse email. Veuillez vous connecter avec votre compte existant."
    )
    assert (count(db, Order), count(db, Payment), count(db, User, User.role == "student")) == (0, 0, 1)
    assert count(db, CartItem) == 1 and count(db, Hold) == 1


# Failed payments


def test_a_declined_payment_leaves_the_order_pending_and_the_cart_held_for_a_retry(
    db, make, offer, gateway, student, now
):
    coupon = make.coupon(max_redemptions=1)
    cart = new_cart(db, student)
    cart.coupon_id = coupon.id
    fill(cart, offer, 9, now=now)
    order, payment = start_checkout(cart, billing(student.email), now, gateway, user=student)
    db.session.commit()

    payment_failed(payment.gateway_payment_id, CARD_DECLINED, now)
    db.session.commit()
    assert (payment.status, payment.failure_message) == ("failed", CARD_DECLINED)
    assert order.status == "pending" and count(db, Appointment) == 0
    assert count(db, CartItem) == count(db, Hold) == 1 and coupon.redemptions_count == 1

    # Retrying with the unchanged cart goes back to the same order and payment.
    assert start_checkout(cart, billing(student.email), now, gateway, user=student) == (order, payment)
    payment_succeeded(payment.gateway_payment_id, now, gateway)
    db.session.commit()
    assert (order.status, payment.status, payment.failure_message) == ("paid", "succeeded", None)
    assert count(db, Appointment) == 1 and count(db, CouponRedemption) == 1

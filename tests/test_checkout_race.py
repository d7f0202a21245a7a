"""Checkouts and payment events racing on PostgreSQL: coupon limits hold, orders are booked once.

Each thread posts through its own test client; a request outside the test's app
context gets its own app context, hence its own session and connection.
"""

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from tutoradmin import credits
from tutoradmin.checkout import expire_abandoned, start_checkout
from tutoradmin.models import (
    Appointment,
    Coupon,
    CouponRedemption,
    CreditEntry,
    CreditKind,
    GatewayEvent,
    Order,
    OutboxEvent,
    Payment,
    SlotLock,
    User,
    utcnow,
)

from .races import logged_in, race
from .shopping import billing, billing_form, count, fill, make_offer, new_cart

USED_UP = "Ce code promo a atteint sa limite d&#39;utilisation."
THREADS = 8
# Concurrency needs PostgreSQL's row locks: skipped on SQLite.
pytestmark = pytest.mark.usefixtures("pg_engine")


@pytest.fixture
def offer(db, make):
    return make_offer(db, make, utcnow(), tutors=4)


def pay(client, gateway, payment):
    """Deliver the signed success event of a payment, given as (gateway id, order id, amount), to the webhook."""
    evt = gateway.event("payment_intent.succeeded", *payment)
    payload, signature = gateway.sign(evt)
    return client.post("/webhooks/stripe", data=payload, headers={"Stripe-Signature": signature})


def test_a_single_use_coupon_checked_out_by_two_students_at_once_is_counted_once(app, db, make, offer, gateway, quiet):
    coupon = make.coupon(code="UNEFOIS", kind="percent", value=20, max_redemptions=1)
    coupon_id = coupon.id
    students = [make.user(email=f"eleve{i}@example.com") for i in range(2)]
    for i, student in enumerate(students):
        cart = new_cart(db, student)
        cart.coupon_id = coupon.id
        fill(cart, offer, 9 + 2 * i, now=utcnow())
    db.session.commit()
    clients = [logged_in(app, student) for student in students]
    emails = [student.email for student in students]
    quiet()

    results = race(
        [
            lambda c=client, e=email: c.post("/checkout", data=billing_form(email=e, password=None))
            for client, email in zip(clients, emails, strict=True)
        ]
    )

    assert sorted(r.status_code for r in results) == [302, 400], results
    refused = next(r for r in results if r.status_code == 400)
    assert USED_UP in refused.get_data(as_text=True)
    order = db.session.scalars(select(Order)).one()
    order_id = order.id
    assert (order.coupon_id, order.discount_cents, order.total_cents) == (coupon_id, 900, 3600)
    assert db.session.get(Coupon, coupon_id).redemptions_count == 1

    # The refused student removes the code and checks out at full price; both payments then succeed at once.
    loser = [r.status_code for r in results].index(400)
    assert clients[loser].post("/panier/coupon/retirer").status_code == 302
    assert clients[loser].post("/checkout", data=billing_form(email=emails[loser], password=None)).status_code == 302
    payments = db.session.execute(
        select(Payment.gateway_payment_id, Payment.order_id, Payment.amount_cents).order_by(Payment.id)
    ).all()
    assert [amount for _, _, amount in payments] == [3600, 4500]
    quiet()
    hooks = [app.test_client() for _ in payments]
    results = race([lambda c=c, p=p: pay(c, gateway, p) for c, p in zip(hooks, payments, strict=True)])

    assert [r.status_code for r in results] == [200, 200], results
    assert db.session.scalars(select(Order.status)).all() == ["paid", "paid"]
    assert db.session.scalars(select(CouponRedemption.order_id)).all() == [order_id]
    assert db.session.get(Coupon, coupon_id).redemptions_count == 1
    assert count(db, Appointment) == 2


def test_many_students_racing_for_a_coupon_never_exceed_its_limit(app, db, make, offer, quiet):
    coupon = make.coupon(code="TROIS", kind="fixed", value=500, max_redemptions=3)
    coupon_id = coupon.id
    students = [make.user(email=f"course{i}@example.com") for i in range(THREADS)]
    for i, student in enumerate(students):
        cart = new_cart(db, student)
        cart.coupon_id = coupon.id
        fill(cart, offer, 9 + i % 4, now=utcnow(), tutor=offer.tutors[i // 4])
    db.session.commit()
    clients = [logged_in(app, student) for student in students]
    emails = [student.email for student in students]
    quiet()

    results = race(
        [
            lambda c=client, e=email: c.post("/checkout", data=billing_form(email=e, password=None))
            for client, email in zip(clients, emails, strict=True)
        ]
    )

    assert sorted(r.status_code for r in results) == [302] * 3 + [400] * (THREADS - 3), results
    assert count(db, Order, Order.coupon_id == coupon_id) == 3
    assert db.session.get(Coupon, coupon_id).redemptions_count == 3


@pytest.fixture
def pending(db, make, offer, gateway):
    """A pending order of two sessions, with a coupon and credit, and its payment."""
    now = utcnow()
    student = make.user()
    credits.add_entry(student.id, CreditKind.CREDIT, 700, "Crédit", now)
    coupon = make.coupon(kind="fixed", value=1000, max_redemptions=5)
    cart = new_cart(db, student)
    cart.coupon_id = coupon.id
    fill(cart, offer, 9, 13, now=now)
    order, payment = start_checkout(cart, billing(student.email), now, gateway, user=student)
    db.session.commit()
    return order.id, (payment.gateway_payment_id, order.id, payment.amount_cents)


def booked(db):
    return (
        count(db, Appointment),
        count(db, SlotLock, SlotLock.appointment_id.is_not(None)),
        count(db, CouponRedemption),
        count(db, CreditEntry, CreditEntry.kind == CreditKind.DEBIT),
        count(db, OutboxEvent, OutboxEvent.event_type == "booking.created"),
    )


def test_one_success_event_delivered_several_times_at_once_books_the_order_once(app, db, gateway, pending, quiet):
    order_id, payment = pending
    evt = gateway.event("payment_intent.succeeded", *payment)
    payload, signature = gateway.sign(evt)
    clients = [app.test_client() for _ in range(THREADS)]
    quiet()

    results = race(
        [lambda c=c: c.post("/webhooks/stripe", data=payload, headers={"Stripe-Signature": signature}) for c in clients]
    )

    assert [r.status_code for r in results] == [200] * THREADS, results
    assert sorted(r.get_json()["applique"] for r in results) == [False] * (THREADS - 1) + [True]
    assert count(db, GatewayEvent) == 1
    assert db.session.get(Order, order_id).status == "paid"
    assert booked(db) == (2, 4, 1, 1, 1)


def test_distinct_success_events_for_one_payment_at_once_book_the_order_once(app, db, gateway, pending, quiet):
    order_id, payment = pending
    clients = [app.test_client() for _ in range(THREADS)]
    quiet()

    results = race([lambda c=c: pay(c, gateway, payment) for c in clients])

    assert [r.status_code for r in results] == [200] * THREADS, results
    assert count(db, GatewayEvent) == THREADS
    assert db.session.get(Order, order_id).status == "paid"
    assert booked(db) == (2, 4, 1, 1, 1)
    assert count(db, Payment, Payment.status == "succeeded") == 1


def test_a_double_submitted_checkout_gives_one_order_and_one_payment(app, db, make, offer, quiet):
    student = make.user()
    cart = new_cart(db, student)
    fill(cart, offer, 9, now=utcnow())
    db.session.commit()
    clients = [logged_in(app, student) for _ in range(4)]
    email = student.email
    quiet()

    results = race([lambda c=c: c.post("/checkout", data=billing_form(email=email, password=None)) for c in clients])

    assert [r.status_code for r in results] == [302] * 4, results
    assert len({r.headers["Location"] for r in results}) == 1
    assert (count(db, Order), count(db, Payment)) == (1, 1)


def test_a_guest_double_submitting_checkout_gets_one_account_and_one_order(app, db, offer, quiet):
    fill(new_cart(db, session_key="double-clic"), offer, 9, now=utcnow())
    clients = []
    for _ in range(4):
        client = app.test_client()
        with client.session_transaction() as session:
            session["cart_key"] = "double-clic"
        clients.append(client)
    quiet()

    results = race([lambda c=c: c.post("/checkout", data=billing_form(email="invite@example.com")) for c in clients])

    assert [r.status_code for r in results] == [302] * 4, results
    assert len({r.headers["Location"] for r in results}) == 1
    assert (count(db, Order), count(db, Payment)) == (1, 1)
    assert count(db, User, User.email == "invite@example.com") == 1


def test_a_success_event_arriving_while_the_order_is_being_abandoned_waits_instead_of_deadlocking(
    app, db, gateway, pending, quiet
):
    order_id, payment = pending
    client = app.test_client()
    quiet()
    # The abandon command locks the order, then (at commit) writes its payment as cancelled.
    assert expire_abandoned(utcnow() + timedelta(minutes=16), gateway) == 1
    responses = []
    event = threading.Thread(target=lambda: responses.append(race([lambda: pay(client, gateway, payment)])[0]))
    event.start()
    time.sleep(0.5)  # the event's request is now waiting for the order

    db.session.commit()
    event.join(timeout=30)

    assert [getattr(r, "status_code", r) for r in responses] == [200]
    db.session.expire_all()
    # Paid after all: the booking stands.
    assert db.session.get(Order, order_id).status == "paid"
    assert db.session.scalar(select(Payment.status)) == "succeeded"

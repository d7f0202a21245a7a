"""A student's credit under concurrent checkouts, debits and late payments, on PostgreSQL with separate
connections: never more reserved than the balance, never a balance below zero."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tutoradmin import credits
from tutoradmin.accounts import announce_signup
from tutoradmin.checkout import expire_abandoned, start_checkout
from tutoradmin.extensions import db as _db
from tutoradmin.fulfilment import payment_succeeded
from tutoradmin.models import Appointment, CreditEntry, CreditKind, Order, utcnow

from .races import race
from .shopping import billing, count, fill, make_offer, new_cart

THREADS = 6
CREDIT = 5000
# Each session costs more than the whole credit: every checkout wants all of it.
RATE = 6000
pytestmark = pytest.mark.usefixtures("pg_engine")


@pytest.fixture
def offer(db, make):
    return make_offer(db, make, utcnow(), tutors=THREADS, rate_cents=RATE)


@pytest.fixture
def student(db, make):
    student = make.user()
    credits.add_entry(student.id, CreditKind.CREDIT, CREDIT, "Geste commercial", utcnow())
    # Announced already, as an account that has booked before: the race is about credit, not the welcome.
    announce_signup(student, utcnow())
    db.session.commit()
    return student


def _in_own_session(app, work):
    """`work` in an app context of its own (its own session and connection), committed; its result."""

    def call():
        with app.app_context():
            try:
                result = work()
                _db.session.commit()
                return result
            finally:
                _db.session.remove()

    return call


def _cart(db, offer, tutor, now):
    """A cart of the student's other than their own (an old guest cart), holding one session of `tutor`."""
    cart = new_cart(db)
    fill(cart, offer, 10, now=now, tutor=tutor)
    return cart.id


def _refused(result):
    return isinstance(result, tuple) and result[0] == "exception"


def _checkout(student_id, cart_id, now, gateway):
    def work():
        from tutoradmin.models import Cart, User

        student, cart = _db.session.get(User, student_id), _db.session.get(Cart, cart_id)
        order, payment = start_checkout(cart, billing(student.email), now, gateway, user=student)
        return order.id, order.credit_cents, payment.gateway_payment_id if payment else None

    return work


def test_concurrent_checkouts_each_wanting_the_whole_credit_reserve_at_most_the_balance(
    app, db, offer, student, gateway, quiet
):
    now = utcnow()
    carts = [_cart(db, offer, tutor, now) for tutor in offer.tutors]
    student_id = student.id
    quiet()

    results = race([_in_own_session(app, _checkout(student_id, cart_id, now, gateway)) for cart_id in carts])

    assert not any(map(_refused, results)), results
    reserved = sorted(credit for _order, credit, _payment in results)
    assert reserved == [0] * (THREADS - 1) + [CREDIT]
    assert credits.available_cents(student_id) == 0

    # Every order then paid at once: each debits what it reserved, and the ledger ends at zero.
    quiet()
    payments = [(payment, now) for _order, _credit, payment in results]
    outcomes = race(
        [_in_own_session(app, lambda p=p, t=t: payment_succeeded(p, t, gateway) and None) for p, t in payments]
    )
    assert outcomes == [None] * THREADS, outcomes
    assert credits.balance_cents(student_id) == 0
    assert count(db, Appointment) == THREADS


def test_concurrent_debits_of_the_whole_balance_are_refused_by_the_database_but_one(app, db, student, quiet):
    student_id = student.id
    quiet()

    def debit():
        credits.add_entry(student_id, CreditKind.DEBIT, CREDIT, "Utilisé", utcnow())
        _db.session.flush()
        return "ok"

    results = race([_in_own_session(app, debit) for _ in range(THREADS)])

    assert sorted(map(str, results)).count("ok") == 1, results
    assert all("credit_balance_negative" in str(r) for r in results if r != "ok"), results
    assert credits.balance_cents(student_id) == 0


def test_a_late_payment_racing_a_new_checkout_for_the_same_credit_never_spends_it_twice(
    app, db, offer, student, gateway, quiet
):
    now, later = utcnow(), utcnow() + timedelta(minutes=16)
    student_id = student.id
    _order_id, first_credit, late_payment = _checkout(
        student_id, _cart(db, offer, offer.tutors[0], now), now, gateway
    )()
    db.session.commit()
    assert first_credit == CREDIT
    assert expire_abandoned(later, gateway) == 1
    new_cart_id = _cart(db, offer, offer.tutors[1], later)
    quiet()

    results = race(
        [
            _in_own_session(app, _checkout(student_id, new_cart_id, later, gateway)),
            _in_own_session(app, lambda: payment_succeeded(late_payment, later, gateway).status),
        ]
    )

    assert not any(map(_refused, results)), results
    (_new_order, new_credit, _payment), late_status = results
    # Either the late payment still found the credit (booked) and the new checkout got none, or the
    # new checkout took it first and the late order was refunded: never both.
    assert (late_status, new_credit) in [("paid", 0), ("refunded", CREDIT)], results
    debited = db.session.scalar(
        select(func.coalesce(func.sum(CreditEntry.amount_cents), 0)).where(CreditEntry.kind == "debit")
    )
    pending = db.session.scalar(select(func.coalesce(func.sum(Order.credit_cents), 0)).where(Order.status == "pending"))
    assert debited + pending == CREDIT
    assert credits.balance_cents(student_id) >= 0

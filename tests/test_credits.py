"""The credit ledger: what pending orders reserve, late payments, and a balance never below zero."""

from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tutoradmin import credits
from tutoradmin.checkout import expire_abandoned, quote, start_checkout
from tutoradmin.fulfilment import payment_succeeded
from tutoradmin.models import Appointment, CreditEntry, CreditKind, Role
from tutoradmin.views.orders import FlaggedFilter

from .shopping import billing, count, fill, new_cart


def test_the_office_cannot_debit_credit_a_pending_order_is_about_to_use(db, make, offer, gateway, now):
    staff, student = make.user(role=Role.STAFF), make.user()
    credits.add_entry(student.id, CreditKind.CREDIT, 2000, "Geste commercial", now)
    cart = new_cart(db, student)
    fill(cart, offer, 9, now=now)
    order, payment = start_checkout(cart, billing(student.email), now, gateway, user=student)
    db.session.commit()
    assert order.credit_cents == 2000

    with pytest.raises(credits.CreditError, match="réservés par une commande en attente"):
        credits.adjust(student, CreditKind.DEBIT, 1000, "Erreur de saisie", staff, now)
    db.session.rollback()
    payment_succeeded(payment.gateway_payment_id, now, gateway)
    db.session.commit()

    assert credits.balance_cents(student.id) == 0


def test_credit_no_order_waits_for_can_be_debited_down_to_zero_but_not_below(db, make, now):
    staff, student = make.user(role=Role.STAFF), make.user()
    credits.add_entry(student.id, CreditKind.CREDIT, 1500, "Annulation", now)

    with pytest.raises(credits.CreditError, match="n'est que de 15,00"):
        credits.adjust(student, CreditKind.DEBIT, 1501, "Correction", staff, now)
    credits.adjust(student, CreditKind.DEBIT, 1500, "Correction", staff, now)

    assert credits.balance_cents(student.id) == 0


# Credit held by a pending order ---------------------------------------------------------------------


def _student_with_credit(db, make, now, cents=2000):
    student = make.user()
    credits.add_entry(student.id, CreditKind.CREDIT, cents, "Geste commercial", now)
    db.session.commit()
    return student


def _checkout(db, student, offer, gateway, now, hour, cart=None):
    """A pending order of one session at `hour`, from the student's cart or another one (an old guest cart)."""
    cart = cart or new_cart(db)
    fill(cart, offer, hour, now=now)
    order, payment = start_checkout(cart, billing(student.email), now, gateway, user=student)
    db.session.commit()
    return order, payment


def test_a_pending_order_reserves_its_credit_from_the_next_checkout(db, make, offer, gateway, now):
    student = _student_with_credit(db, make, now)
    first, _ = _checkout(db, student, offer, gateway, now, 9)
    second, _ = _checkout(db, student, offer, gateway, now, 11)

    assert (first.credit_cents, second.credit_cents) == (2000, 0)
    assert credits.available_cents(student.id) == 0
    assert credits.reserved_cents(student.id) == 2000


def test_checking_out_a_cart_again_reuses_the_credit_its_own_pending_order_held(db, make, offer, gateway, now):
    student = _student_with_credit(db, make, now)
    cart = new_cart(db, student)
    first, _ = _checkout(db, student, offer, gateway, now, 9, cart=cart)
    assert quote(cart, student, now).credit_cents == 2000

    second, _ = _checkout(db, student, offer, gateway, now, 11, cart=cart)

    assert first.status == "failed" and second.credit_cents == 2000


def test_abandoning_a_pending_order_releases_its_credit(db, make, offer, gateway, now):
    student = _student_with_credit(db, make, now)
    first, _ = _checkout(db, student, offer, gateway, now, 9)
    expire_abandoned(now + timedelta(minutes=16), gateway)
    db.session.commit()

    later = now + timedelta(minutes=17)
    second, _ = _checkout(db, student, offer, gateway, later, 11)

    assert first.status == "failed" and second.credit_cents == 2000


def _paid_late_after_its_credit_was_spent(db, make, offer, gateway, now):
    """The issue's scenario: order A pending with credit, abandoned; order B uses the credit and is paid;
    then A's payment arrives. Returns (A, A's payment, B)."""
    student = _student_with_credit(db, make, now)
    abandoned, late_payment = _checkout(db, student, offer, gateway, now, 9)
    expire_abandoned(now + timedelta(minutes=16), gateway)
    later = now + timedelta(minutes=17)
    newer, newer_payment = _checkout(db, student, offer, gateway, later, 11)
    assert newer.credit_cents == 2000
    payment_succeeded(newer_payment.gateway_payment_id, later, gateway)
    db.session.commit()

    payment_succeeded(late_payment.gateway_payment_id, later + timedelta(minutes=5), gateway)
    db.session.commit()
    return abandoned, late_payment, newer


def test_an_abandoned_order_paid_after_its_credit_was_spent_is_refunded_and_flagged_not_booked(
    db, make, offer, gateway, now
):
    abandoned, late_payment, newer = _paid_late_after_its_credit_was_spent(db, make, offer, gateway, now)

    assert credits.balance_cents(abandoned.user_id) == 0
    assert abandoned.status == "refunded" and not any(item.appointment for item in abandoned.items)
    assert [r.amount_cents for r in abandoned.refunds if r.status == "succeeded"] == [late_payment.amount_cents]
    assert all(item.flagged_at and "crédit" in item.flag_reason for item in abandoned.items)
    assert count(db, CreditEntry, CreditEntry.order_id == abandoned.id) == 0
    assert count(db, Appointment) == 1 and newer.status == "paid"
    # Charged then refunded: it has a receipt number, after the newer order's.
    assert abandoned.receipt_number > newer.receipt_number


def test_the_office_finds_a_late_order_refunded_for_spent_credit_among_flagged_orders(
    app, client, db, make, offer, gateway, now, login_as
):
    abandoned, _payment, newer = _paid_late_after_its_credit_was_spent(db, make, offer, gateway, now)
    login_as("staff")
    view = next(v for v in app.extensions["admin"][0]._views if v.endpoint == "orders")
    index = next(i for i, f in enumerate(view._filters) if isinstance(f, FlaggedFilter))

    details = unescape(client.get(f"/admin/commandes/details/?id={abandoned.id}").get_data(as_text=True))
    flagged = client.get(f"/admin/commandes/?flt0_{index}=1").get_data(as_text=True)

    assert "Signalée : Commande payée après son abandon" in details
    assert f"details/?id={abandoned.id}&" in flagged and f"details/?id={newer.id}&" not in flagged


def test_an_abandoned_order_paid_while_its_credit_is_still_there_is_booked_and_debited(db, make, offer, gateway, now):
    student = _student_with_credit(db, make, now)
    abandoned, late_payment = _checkout(db, student, offer, gateway, now, 9)
    expire_abandoned(now + timedelta(minutes=16), gateway)
    db.session.commit()

    payment_succeeded(late_payment.gateway_payment_id, now + timedelta(minutes=20), gateway)
    db.session.commit()

    assert abandoned.status == "paid" and all(item.appointment for item in abandoned.items)
    assert credits.balance_cents(student.id) == 0


def test_the_database_refuses_a_debit_beyond_the_balance(db, make, now):
    student = _student_with_credit(db, make, now, cents=1000)

    credits.add_entry(student.id, CreditKind.DEBIT, 1001, "Utilisé", now)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    credits.add_entry(student.id, CreditKind.DEBIT, 1000, "Utilisé", now)
    db.session.commit()

    assert credits.balance_cents(student.id) == 0


def test_the_database_refuses_a_ledger_line_rewritten_below_zero(db, make, now):
    student = _student_with_credit(db, make, now, cents=1000)
    credits.add_entry(student.id, CreditKind.DEBIT, 600, "Utilisé", now)
    db.session.commit()
    credit = db.session.scalars(select(CreditEntry).where(CreditEntry.kind == "credit")).one()

    credit.amount_cents = 500
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_the_office_sees_the_credit_a_pending_order_reserves(client, db, make, offer, gateway, now, login_as):
    student = _student_with_credit(db, make, now)
    _checkout(db, student, offer, gateway, now, 9)
    login_as("staff")

    page = client.get(f"/admin/etudiants/credit/{student.id}").get_data(as_text=True)

    assert "dont 20,00" in page and "réservés par une commande en attente de paiement" in page

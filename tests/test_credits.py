"""The credit ledger: manual adjustments never take the balance below zero."""

import pytest

from tutoradmin import credits
from tutoradmin.checkout import start_checkout
from tutoradmin.fulfilment import payment_succeeded
from tutoradmin.models import CreditKind, Role

from .shopping import billing, fill, new_cart


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

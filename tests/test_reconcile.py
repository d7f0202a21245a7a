"""`flask reconcile-payments`: the fake Stripe's PaymentIntents of the last days checked against the orders."""

import time

import pytest
from sqlalchemy import select

from tutoradmin.fulfilment import payment_succeeded
from tutoradmin.models import (
    Appointment,
    CouponRedemption,
    CreditEntry,
    CreditKind,
    OutboxEvent,
    Payment,
)
from tutoradmin.payments.simulated import SimulatedGateway
from tutoradmin.reconcile import reconcile_payments

from .shopping import count, pending_order, row_counts

DAY = 86400


@pytest.fixture
def app_config(fake_stripe):
    return fake_stripe.app_config()


@pytest.fixture
def pending(db, make, offer, gateway, now):
    """A pending order of two sessions with a coupon and some credit; its PaymentIntent is at the fake Stripe."""
    return pending_order(db, make, offer, gateway, now)


def run(db, gateway, now, **options):
    result = reconcile_payments(now, gateway, **options)
    db.session.commit()
    db.session.expire_all()
    return result


def booked(db):
    return (
        count(db, Appointment),
        count(db, CouponRedemption),
        count(db, CreditEntry, CreditEntry.kind == CreditKind.DEBIT),
        count(db, OutboxEvent, OutboxEvent.event_type == "booking.created"),
    )


def test_a_payment_whose_success_event_never_came_is_booked_exactly_once(db, gateway, fake_stripe, pending, now):
    order, payment = pending
    fake_stripe.pay_in_browser(payment.gateway_payment_id)  # paid, but the webhook never arrives

    first = run(db, gateway, now)

    assert (first.checked, first.booked, first.failed, first.problems) == (1, [order.id], [], [])
    assert (order.status, payment.status) == ("paid", "succeeded") and order.paid_at is not None
    assert booked(db) == (2, 1, 1, 1)

    again = run(db, gateway, now)
    # The success event turns up after all.
    payment_succeeded(payment.gateway_payment_id, now, gateway)
    db.session.commit()

    assert (again.checked, again.booked, again.problems) == (1, [], [])
    assert booked(db) == (2, 1, 1, 1)
    assert db.session.scalars(select(CreditEntry.amount_cents).where(CreditEntry.kind == "debit")).all() == [1000]


def test_a_payment_canceled_at_stripe_fails_its_pending_order(db, gateway, fake_stripe, pending, now):
    order, payment = pending
    coupon = order.coupon
    assert coupon.redemptions_count == 1  # reserved by the checkout
    fake_stripe.cancel_intent(payment.gateway_payment_id)

    first = run(db, gateway, now)
    counts = row_counts(db)
    again = run(db, gateway, now)

    assert (first.failed, first.booked, again.failed) == ([order.id], [], [])
    assert (order.status, payment.status) == ("failed", "canceled")
    assert coupon.redemptions_count == 0
    assert booked(db) == (0, 0, 0, 0)
    assert row_counts(db) == counts


def test_an_order_still_being_paid_is_left_alone(db, gateway, fake_stripe, pending, now):
    order, payment = pending

    result = run(db, gateway, now)

    assert (result.checked, result.booked, result.failed, result.problems) == (1, [], [], [])
    assert (order.status, payment.status, order.flagged_at) == ("pending", "pending", None)


def test_an_amount_that_disagrees_is_flagged_and_nothing_is_booked(db, gateway, fake_stripe, pending, now):
    order, payment = pending
    fake_stripe.pay_in_browser(payment.gateway_payment_id)
    fake_stripe.intents[payment.gateway_payment_id]["amount"] = 100

    result = run(db, gateway, now)
    again = run(db, gateway, now)

    assert result.booked == [] and order.status == "pending" and booked(db) == (0, 0, 0, 0)
    [problem] = result.problems
    assert problem.startswith(f"Commande #{order.id} : montant différent chez Stripe")
    assert again.problems == result.problems
    # Flagged once, however many nights it is reported.
    assert order.flagged_at is not None and order.flag_reason.count("montant différent") == 1


def test_a_payment_without_an_order_here_is_reported(db, gateway, fake_stripe, now):
    stranger = fake_stripe.paid_intent(5000)
    counts = row_counts(db)

    result = run(db, gateway, now)

    assert result.checked == 1 and stranger in result.problems[0] and "inconnu ici" in result.problems[0]
    assert row_counts(db) == counts


def test_a_second_payment_of_a_booked_order_is_flagged_for_a_refund(db, gateway, fake_stripe, pending, now):
    order, payment = pending
    fake_stripe.pay_in_browser(payment.gateway_payment_id)
    run(db, gateway, now)
    # A second PaymentIntent of the same order, paid too (an old tab).
    twin = Payment(
        order_id=order.id,
        provider="stripe",
        gateway_payment_id=fake_stripe.paid_intent(payment.amount_cents),
        idempotency_key="order-twin",
        amount_cents=payment.amount_cents,
    )
    db.session.add(twin)
    db.session.commit()

    result = run(db, gateway, now)

    assert result.booked == [] and "à rembourser" in result.problems[0]
    assert twin.status == "succeeded" and booked(db) == (2, 1, 1, 1)
    assert "déjà payée" in order.flag_reason


def test_only_the_last_days_are_checked_page_after_page(db, gateway, fake_stripe, now):
    old = fake_stripe.paid_intent(5000)
    fake_stripe.intents[old]["created"] = int(time.time()) - 5 * DAY
    recent = [fake_stripe.paid_intent(5000) for _ in range(120)]

    three_days = run(db, gateway, now)
    week = run(db, gateway, now, days=7)

    assert three_days.checked == 120 and week.checked == 121
    reported = " ".join(three_days.problems)
    assert all(i in reported for i in recent) and old not in reported
    pages = fake_stripe.sent("GET", "/v1/payment_intents")
    assert len(pages) == 4  # two pages of 100 per run
    assert pages[0].params["created"] == {"gte": str(int(now.timestamp()) - 3 * DAY)}
    assert pages[1].params["starting_after"] == recent[20]


def test_the_simulator_has_nothing_to_reconcile(app, db, now):
    assert reconcile_payments(now, SimulatedGateway(app.config)).checked == 0


def test_the_command_prints_a_french_summary(app, db, fake_stripe, pending):
    order, payment = pending
    fake_stripe.pay_in_browser(payment.gateway_payment_id)
    fake_stripe.paid_intent(5000)

    result = app.test_cli_runner().invoke(args=["reconcile-payments", "--days", "2"])

    assert result.exit_code == 0, result.output
    assert "Paiements vérifiés chez Stripe : 2." in result.output
    assert f"Commandes payées enregistrées : 1 (#{order.id})." in result.output
    assert "À vérifier par l'équipe : 1." in result.output
    db.session.expire_all()
    assert order.status == "paid"


def test_the_command_fails_cleanly_when_stripe_is_unreachable(app, db, fake_stripe, pending):
    fake_stripe.fail_next = 10

    result = app.test_cli_runner().invoke(args=["reconcile-payments"])

    assert result.exit_code == 1
    assert "indisponible" in result.output

"""Refunds to the card: amounts, cancelled sessions, idempotency and gateway refusals."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tutoradmin import appointments, balances, credits, payouts, refunds
from tutoradmin.localtime import to_local
from tutoradmin.models import (
    AuditLog,
    CreditEntry,
    OutboxEvent,
    PayoutAdjustment,
    Refund,
    Role,
    SlotLock,
    utcnow,
)
from tutoradmin.payments import GatewayError, RefundResult


class RecordingGateway:
    """A gateway that remembers every refund it was asked for, and can refuse them."""

    name = "simulated"

    def __init__(self, refuse=None):
        self.calls = []
        self.refuse = refuse

    def refund(self, payment_id, amount_cents, idempotency_key):
        self.calls.append((payment_id, amount_cents, idempotency_key))
        if self.refuse:
            raise GatewayError(self.refuse)
        return RefundResult(f"re_{len(self.calls)}", "succeeded")


@pytest.fixture
def staff(make):
    return make.user(role=Role.STAFF)


@pytest.fixture
def gateway():
    return RecordingGateway()


def _key():
    return uuid.uuid4().hex


def _count(db, model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_full_refund_cancels_the_chosen_sessions_and_frees_their_time(db, make, staff, gateway):
    order = make.booked_order(items=2)
    first, second = order.items
    now = utcnow()

    refund = refunds.refund_order(
        order, order.total_cents, [first.id, second.id], "Cours annulé", staff, now, gateway, _key()
    )
    db.session.commit()

    assert refund.status == "succeeded" and refund.gateway_refund_id == "re_1"
    assert gateway.calls == [(order.payments[0].gateway_payment_id, order.total_cents, refund.idempotency_key)]
    assert order.status == "refunded"
    assert {i.appointment.status for i in order.items} == {"cancelled"}
    assert _count(db, SlotLock, SlotLock.tutor_id == first.tutor_id) == 0
    assert sorted(i.amount_cents for i in refund.items) == [first.price_cents, second.price_cents]
    # Money goes back to the card, not to the student's credit as well.
    assert credits.balance_cents(order.user_id) == 0
    log = db.session.scalar(select(AuditLog).where(AuditLog.action == "refund.created"))
    assert log.actor_id == staff.id and log.target_id == order.id
    assert log.before == {"statut": "paid"} and log.after["montant_cents"] == order.total_cents
    event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.event_type == "refund.processed"))
    assert event.payload["amount"]["cents"] == order.total_cents
    assert event.payload["student"]["email"] == order.user.email
    assert sorted(s["appointment_id"] for s in event.payload["cancelled_sessions"]) == sorted(
        i.appointment.id for i in order.items
    )


def test_partial_refund_of_one_session_leaves_the_other_booked(db, make, staff, gateway):
    order = make.booked_order(items=2)
    first, second = order.items

    refund = refunds.refund_order(
        order, first.price_cents, [first.id], "Tuteur absent", staff, utcnow(), gateway, _key()
    )
    db.session.commit()

    assert order.status == "partially_refunded"
    assert first.appointment.status == "cancelled" and second.appointment.status == "scheduled"
    assert [(i.order_item_id, i.amount_cents, i.cancels_appointment) for i in refund.items] == [
        (first.id, first.price_cents, True)
    ]
    assert balances.refundable_cents(order) == second.price_cents
    assert _count(db, SlotLock, SlotLock.appointment_id == second.appointment.id) == 2


def test_goodwill_refund_without_cancelling_spreads_over_the_items(db, make, staff, gateway):
    order = make.booked_order(items=2)

    refund = refunds.refund_order(order, 1001, [], "Geste commercial", staff, utcnow(), gateway, _key())
    db.session.commit()

    assert order.status == "partially_refunded"
    assert sorted(i.amount_cents for i in refund.items) == [500, 501]
    assert not any(i.cancels_appointment for i in refund.items)
    assert {i.appointment.status for i in order.items} == {"scheduled"}


def test_submitting_the_same_refund_form_twice_refunds_once(db, make, staff, gateway):
    order = make.booked_order(items=1)
    key = _key()

    first = refunds.refund_order(order, 1000, [], "Retard", staff, utcnow(), gateway, key)
    db.session.commit()
    again = refunds.refund_order(order, 1000, [], "Retard", staff, utcnow(), gateway, key)
    db.session.commit()

    assert again.id == first.id
    assert len(gateway.calls) == 1
    assert _count(db, Refund) == 1
    assert balances.refunded_cents(order) == 1000


def test_a_refund_the_gateway_refuses_changes_nothing_but_is_recorded_as_failed(db, make, staff):
    order = make.booked_order(items=1)
    item = order.items[0]
    gateway = RecordingGateway(refuse="Le service de paiement est momentanément indisponible.")

    refund = refunds.refund_order(order, order.total_cents, [item.id], "Annulation", staff, utcnow(), gateway, _key())
    db.session.commit()

    assert refund.status == "failed" and refund.gateway_refund_id is None
    assert "indisponible" in refund.failure_message
    assert order.status == "paid"
    assert item.appointment.status == "scheduled"
    assert balances.refundable_cents(order) == order.total_cents
    assert _count(db, AuditLog) == 0 and _count(db, OutboxEvent) == 0


@pytest.mark.parametrize(
    ("amount", "reason", "message"),
    [
        (0, "Motif", "supérieur à 0"),
        (-5, "Motif", "supérieur à 0"),
        (999999, "Motif", "dépasse ce qui reste"),
        (100, "   ", "motif"),
    ],
)
def test_bad_refund_requests_are_refused_before_the_gateway(db, make, staff, gateway, amount, reason, message):
    order = make.booked_order(items=1)

    with pytest.raises(refunds.RefundError, match=message):
        refunds.refund_order(order, amount, [], reason, staff, utcnow(), gateway, _key())

    assert gateway.calls == []
    assert _count(db, Refund) == 0


def test_sessions_of_another_order_or_already_cancelled_cannot_be_chosen(db, make, staff, gateway):
    order = make.booked_order(items=1)
    other = make.booked_order(items=1)

    with pytest.raises(refunds.RefundError, match="n'appartient pas"):
        refunds.refund_order(order, 100, [other.items[0].id], "Motif", staff, utcnow(), gateway, _key())
    refunds.refund_order(order, 100, [order.items[0].id], "Motif", staff, utcnow(), gateway, _key())
    with pytest.raises(refunds.RefundError, match="déjà annulée"):
        refunds.refund_order(order, 100, [order.items[0].id], "Motif", staff, utcnow(), gateway, _key())


def test_an_order_paid_entirely_with_credit_has_nothing_to_refund_to_a_card(db, make, staff, gateway):
    order = make.booked_order(items=1, credit_cents=4500)

    assert order.payments == []
    with pytest.raises(refunds.RefundError, match="rien à rembourser"):
        refunds.refund_order(order, 100, [], "Motif", staff, utcnow(), gateway, _key())


def test_cancelling_a_session_paid_partly_with_credit_gives_that_credit_back(db, make, staff, gateway):
    order = make.booked_order(items=2, credit_cents=1000)
    first = order.items[0]

    refunds.refund_order(
        order, first.price_cents - first.credit_cents, [first.id], "Annulation", staff, utcnow(), gateway, _key()
    )
    db.session.commit()

    assert first.credit_cents == 500
    entries = db.session.scalars(select(CreditEntry).where(CreditEntry.user_id == order.user_id)).all()
    assert [(e.kind, e.amount_cents) for e in entries] == [("credit", 500)]


def test_a_malformed_request_key_is_refused(db, make, staff, gateway):
    order = make.booked_order(items=1)

    with pytest.raises(refunds.RefundError, match="Formulaire expiré"):
        refunds.refund_order(order, 100, [], "Motif", staff, utcnow(), gateway, "abc")


def _paid_month_session(db, make, staff, now):
    """A completed session of a month its tutor has been paid for."""
    two_months_ago = (now.replace(day=1) - timedelta(days=40)).replace(
        day=10, hour=15, minute=0, second=0, microsecond=0
    )
    order = make.booked_order(items=1, first_start=two_months_ago)
    item = order.items[0]
    make.complete(item.appointment)
    local = to_local(item.starts_at)
    payouts.mark_paid(item.tutor, local.year, local.month, "VIR-123", now - timedelta(days=1), staff, now)
    db.session.commit()
    return order, item


def test_cancelling_a_session_of_a_paid_month_for_a_credit_takes_the_tutor_earnings_back(db, make, staff):
    now = utcnow()
    _order, item = _paid_month_session(db, make, staff, now)

    credit = appointments.cancel(item.appointment, "Séance contestée", staff, now)
    db.session.commit()

    assert credit == item.paid_cents
    adjustment = db.session.scalar(select(PayoutAdjustment))
    assert (adjustment.order_item_id, adjustment.amount_cents) == (item.id, -item.tutor_earnings_cents)


def test_refunding_a_session_of_a_month_already_paid_to_the_tutor_takes_its_earnings_back(db, make, staff, gateway):
    now = utcnow()
    order, item = _paid_month_session(db, make, staff, now)

    refunds.refund_order(order, order.total_cents, [item.id], "Plainte", staff, now, gateway, _key())
    db.session.commit()

    adjustment = db.session.scalar(select(PayoutAdjustment))
    assert adjustment.order_item_id == item.id
    assert adjustment.amount_cents == -item.tutor_earnings_cents
    assert adjustment.applied_payout_id is None  # waits for the tutor's next statement
    assert "Plainte" in adjustment.reason


def test_a_session_already_cancelled_for_a_credit_is_not_refunded_to_the_card_as_well(db, make, staff, gateway):
    order = make.booked_order(items=2)
    credited, kept = order.items
    appointments.cancel(credited.appointment, "Empêchement", staff, utcnow())
    db.session.commit()

    assert balances.refundable_cents(order) == kept.card_cents
    with pytest.raises(refunds.RefundError, match="dépasse ce qui reste"):
        refunds.refund_order(order, order.total_cents, [], "Remboursement complet", staff, utcnow(), gateway, _key())
    refund = refunds.refund_order(
        order, kept.card_cents, [kept.id], "Remboursement complet", staff, utcnow(), gateway, _key()
    )
    db.session.commit()

    assert [(i.order_item_id, i.amount_cents) for i in refund.items] == [(kept.id, kept.card_cents)]
    assert order.status == "refunded"
    # The student got each session back once: one as credit, the other on the card.
    assert credits.balance_cents(order.user_id) == credited.paid_cents
    assert balances.refunded_cents(order) == kept.card_cents


def test_cancelling_for_a_credit_after_a_goodwill_refund_credits_only_what_was_not_refunded(db, make, staff, gateway):
    order = make.booked_order(items=1)
    item = order.items[0]
    refunds.refund_order(order, 1000, [], "Retard du tuteur", staff, utcnow(), gateway, _key())
    db.session.commit()

    credit = appointments.cancel(item.appointment, "Empêchement", staff, utcnow())
    db.session.commit()

    assert credit == item.paid_cents - 1000
    assert credits.balance_cents(order.user_id) == item.paid_cents - 1000

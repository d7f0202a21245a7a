"""The gateway webhook (SPEC §7): signatures first, each event once, any order, lost slots refunded."""

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from tutoradmin import balances, credits
from tutoradmin.checkout import start_checkout
from tutoradmin.fulfilment import SLOT_LOST, payment_succeeded
from tutoradmin.models import (
    Appointment,
    CouponRedemption,
    CreditEntry,
    CreditKind,
    GatewayEvent,
    OutboxEvent,
    Refund,
    RefundItem,
    SlotLock,
)
from tutoradmin.payments import CARD_DECLINED, GatewayError
from tutoradmin.payments.base import sign_payload

from .shopping import billing, count, fill, new_cart, pending_order

SUCCEEDED = "payment_intent.succeeded"
FAILED = "payment_intent.payment_failed"


@pytest.fixture
def pending(db, make, offer, gateway, now):
    """A student's pending order of two sessions with a coupon and some credit, and its payment."""
    return pending_order(db, make, offer, gateway, now)


def event(gateway, payment, event_type=SUCCEEDED, message=None):
    return gateway.event(event_type, payment.gateway_payment_id, payment.order_id, payment.amount_cents, message)


def post(client, payload, signature=None):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return client.post("/webhooks/stripe", data=payload, headers=headers)


def deliver(client, gateway, evt):
    response = post(client, *gateway.sign(evt))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def booked(db):
    """What a paid order leaves behind: (appointments, coupon redemptions, credit debits, booking events)."""
    return (
        count(db, Appointment),
        count(db, CouponRedemption),
        count(db, CreditEntry, CreditEntry.kind == CreditKind.DEBIT),
        count(db, OutboxEvent, OutboxEvent.event_type == "booking.created"),
    )


def refresh(db, *rows):
    db.session.expire_all()
    return rows


# Signatures


def test_a_validly_signed_success_event_books_the_order(client, db, gateway, pending):
    order, payment = pending
    evt = event(gateway, payment)

    assert deliver(client, gateway, evt) == {"recu": True, "applique": True}

    refresh(db)
    record = db.session.scalars(select(GatewayEvent)).one()
    assert (record.event_id, record.event_type, record.provider) == (evt["id"], SUCCEEDED, "simulated")
    assert record.processed_at is not None and record.payload["data"]["object"]["id"] == payment.gateway_payment_id
    assert (order.status, payment.status) == ("paid", "succeeded")
    assert booked(db) == (2, 1, 1, 1)


def _forged(gateway, payload):
    return payload, sign_payload(payload, "not-the-secret")


def _missing(gateway, payload):
    return payload, None


def _stale(gateway, payload):
    return payload, sign_payload(payload, gateway.secret, timestamp=int(time.time()) - 301)


def _tampered(gateway, payload):
    # Signed for one body, delivered with another (a bigger amount).
    _, header = gateway.sign(json.loads(payload))
    return payload.replace(b'"amount": 7000', b'"amount": 7001'), header


def _garbled_header(gateway, payload):
    return payload, "t=abc,v1=zzz"


@pytest.mark.parametrize("attack", [_forged, _missing, _stale, _tampered, _garbled_header])
def test_an_event_without_a_valid_signature_is_refused_and_changes_nothing(client, db, gateway, pending, attack):
    order, payment = pending
    payload = json.dumps(event(gateway, payment)).encode()
    assert b'"amount": 7000' in payload  # 2 × 4500 − 1000 coupon − 1000 credit

    response = post(client, *attack(gateway, payload))

    assert response.status_code == 400
    refresh(db)
    assert count(db, GatewayEvent) == 0
    assert (order.status, order.paid_at, payment.status) == ("pending", None, "pending")
    assert booked(db) == (0, 0, 0, 0)
    assert count(db, SlotLock, SlotLock.appointment_id.is_not(None)) == 0


@pytest.mark.parametrize("body", [b"{not json", b"", b"[1, 2]", b'{"type": "payment_intent.succeeded"}', b'"texte"'])
def test_a_signed_but_malformed_event_is_refused(client, db, gateway, pending, body):
    order, _ = pending

    response = post(client, body, sign_payload(body, gateway.secret))

    assert response.status_code == 400
    refresh(db)
    assert count(db, GatewayEvent) == 0 and order.status == "pending"


def test_an_event_signed_four_minutes_ago_is_still_accepted(client, db, gateway, pending):
    order, payment = pending
    payload = json.dumps(event(gateway, payment)).encode()

    response = post(client, payload, sign_payload(payload, gateway.secret, timestamp=int(time.time()) - 240))

    assert response.status_code == 200
    refresh(db)
    assert order.status == "paid" and count(db, GatewayEvent) == 1


# Replays and order of arrival


def test_replaying_a_success_event_ten_times_books_the_order_once(client, db, gateway, pending):
    order, payment = pending
    evt = event(gateway, payment)

    answers = [deliver(client, gateway, evt) for _ in range(10)]
    # The gateway may also report the same success under new event ids.
    answers += [deliver(client, gateway, event(gateway, payment)) for _ in range(2)]

    assert [a["applique"] for a in answers] == [True] + [False] * 9 + [True, True]
    refresh(db)
    assert count(db, GatewayEvent) == 3
    assert order.status == "paid" and count(db, Refund) == 0
    assert booked(db) == (2, 1, 1, 1)
    debits = select(CreditEntry.amount_cents).where(CreditEntry.kind == CreditKind.DEBIT)
    assert db.session.scalars(debits).all() == [1000]
    assert db.session.get(type(order.coupon), order.coupon_id).redemptions_count == 1
    assert count(db, SlotLock) == 4 and count(db, SlotLock, SlotLock.appointment_id.is_(None)) == 0


def test_a_failure_arriving_after_the_success_changes_nothing(client, db, gateway, pending):
    order, payment = pending
    deliver(client, gateway, event(gateway, payment))
    refresh(db)
    paid_at = order.paid_at

    deliver(client, gateway, event(gateway, payment, FAILED, CARD_DECLINED))

    refresh(db)
    assert (order.status, order.paid_at) == ("paid", paid_at)
    assert (payment.status, payment.failure_message) == ("succeeded", None)
    assert booked(db) == (2, 1, 1, 1)
    assert count(db, GatewayEvent) == 2


def test_a_success_arriving_after_a_failure_books_the_order(client, db, gateway, pending):
    order, payment = pending
    # Stripe's own message is in English: the French one is what gets stored.
    deliver(client, gateway, event(gateway, payment, FAILED, "Your card has insufficient funds."))
    refresh(db)
    assert (order.status, payment.status, payment.failure_message) == ("pending", "failed", CARD_DECLINED)
    assert booked(db) == (0, 0, 0, 0)

    deliver(client, gateway, event(gateway, payment))

    refresh(db)
    assert (order.status, payment.status, payment.failure_message) == ("paid", "succeeded", None)
    assert booked(db) == (2, 1, 1, 1)


def test_events_about_unknown_payments_or_other_types_are_recorded_and_ignored(client, db, gateway, pending):
    order, payment = pending
    stranger = gateway.event(SUCCEEDED, "pi_inconnu", 999999, 100)
    other = dict(event(gateway, payment), type="charge.refunded")

    assert deliver(client, gateway, stranger)["applique"] is True
    assert deliver(client, gateway, other)["applique"] is True

    refresh(db)
    assert sorted(db.session.scalars(select(GatewayEvent.event_type)).all()) == ["charge.refunded", SUCCEEDED]
    assert (order.status, payment.status) == ("pending", "pending") and booked(db) == (0, 0, 0, 0)


# A slot lost while the payment was on its way


def test_a_slot_taken_after_the_hold_expired_is_refunded_and_the_rest_stands(
    client, db, make, offer, gateway, pending, now
):
    order, payment = pending
    lost, kept = order.items
    taken_tutor_id = lost.tutor_id
    # The holds lapse; another student takes the 9:00 slot of the same tutor and pays for it.
    later = now + timedelta(minutes=20)
    rival = make.user(email="rivale@example.com")
    rival_cart = new_cart(db, rival)
    [rival_item] = fill(rival_cart, offer, 9, now=later, tutor=lost.tutor)
    _rival_order, rival_payment = start_checkout(rival_cart, billing(rival.email), later, gateway, user=rival)
    payment_succeeded(rival_payment.gateway_payment_id, later, gateway)
    db.session.commit()
    assert rival_item.tutor_id == taken_tutor_id

    deliver(client, gateway, event(gateway, payment))

    refresh(db)
    assert order.status == "partially_refunded" and payment.status == "succeeded"
    # The lost item: flagged, its card part refunded, its credit part given back.
    card_part = lost.price_cents - lost.discount_cents - lost.credit_cents
    assert (lost.discount_cents, lost.credit_cents, card_part) == (500, 500, 3500)
    assert lost.flagged_at is not None and lost.flag_reason == SLOT_LOST
    assert lost.appointment is None
    refund = db.session.scalars(select(Refund)).one()
    assert (refund.order_id, refund.payment_id) == (order.id, payment.id)
    assert (refund.amount_cents, refund.status) == (3500, "succeeded")
    assert refund.gateway_refund_id and refund.processed_at is not None and refund.reason == SLOT_LOST
    refund_item = db.session.scalars(select(RefundItem)).one()
    assert (refund_item.order_item_id, refund_item.amount_cents) == (lost.id, 3500)
    assert credits.balance_cents(order.user_id) == 500  # 1000 − 1000 used + 500 given back
    # The other item stands, on cells locked afresh; the rival keeps the 9:00 slot.
    assert kept.flagged_at is None and kept.appointment.starts_at == offer.at(13)
    appointments = db.session.scalars(select(Appointment).order_by(Appointment.starts_at)).all()
    assert [(a.student_id, a.starts_at) for a in appointments] == [
        (rival.id, offer.at(9)),
        (order.user_id, offer.at(13)),
    ]
    owners = db.session.scalars(select(SlotLock.appointment_id).where(SlotLock.tutor_id == taken_tutor_id)).all()
    assert sorted(owners) == sorted([appointments[0].id] * 2 + [appointments[1].id] * 2)
    [booking] = [
        e
        for e in db.session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == "booking.created"))
        if e.payload["order_id"] == order.id
    ]
    assert [s["appointment_id"] for s in booking.payload["sessions"]] == [kept.appointment.id]
    assert [(u["starts_at_utc"], u["reason"]) for u in booking.payload["unbooked"]] == [
        (f"{lost.starts_at:%Y-%m-%dT%H:%M:%SZ}", SLOT_LOST)
    ]


def test_an_order_whose_every_slot_was_taken_is_refunded_in_full(client, db, make, offer, gateway, now):
    student = make.user()
    cart = new_cart(db, student)
    fill(cart, offer, 10, now=now)
    order, payment = start_checkout(cart, billing(student.email), now, gateway, user=student)
    db.session.commit()
    [item] = order.items
    later = now + timedelta(minutes=16)
    rival_cart = new_cart(db, make.user())
    fill(rival_cart, offer, (9, 120), now=later, tutor=item.tutor)  # overlaps 10:00–11:00
    db.session.commit()

    deliver(client, gateway, event(gateway, payment))

    refresh(db)
    assert order.status == "refunded" and item.flag_reason == SLOT_LOST
    assert db.session.scalars(select(Refund.amount_cents)).all() == [4500]
    assert count(db, Appointment) == 0


def test_a_lost_slot_whose_automatic_refund_fails_leaves_the_order_refundable_by_the_office(
    db, make, offer, gateway, now
):
    student = make.user()
    cart = new_cart(db, student)
    fill(cart, offer, 10, now=now)
    order, payment = start_checkout(cart, billing(student.email), now, gateway, user=student)
    db.session.commit()
    [item] = order.items
    later = now + timedelta(minutes=16)
    fill(new_cart(db, make.user()), offer, (9, 120), now=later, tutor=item.tutor)
    db.session.commit()

    payment_succeeded(payment.gateway_payment_id, later, RefusingGateway(gateway))
    db.session.commit()

    assert item.flag_reason == SLOT_LOST
    assert db.session.scalars(select(Refund.status)).all() == ["failed"]
    # Nothing went back to the card: the order is paid, so the refund page still accepts it.
    assert order.status == "paid"
    assert balances.refundable_cents(order) == order.total_cents == 4500


class RefusingGateway:
    """The simulator, except that the processor is down when refunds are asked for."""

    def __init__(self, gateway):
        self.gateway = gateway

    def __getattr__(self, name):
        return getattr(self.gateway, name)

    def refund(self, payment_id, amount_cents, idempotency_key):
        raise GatewayError("Le service de paiement est momentanément indisponible.")

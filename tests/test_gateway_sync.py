"""Stripe kept in step (SPEC §11): pending refunds, dashboard refunds and disputes, through the signed webhook."""

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tutoradmin import balances, gateway_sync, refunds, reports
from tutoradmin.checkout import start_checkout
from tutoradmin.formatting import money
from tutoradmin.localtime import to_local
from tutoradmin.models import (
    AppointmentStatus,
    Dispute,
    GatewayEvent,
    OutboxEvent,
    Refund,
    RefundItem,
    Role,
)

from .fake_stripe import WEBHOOK_SECRET
from .shopping import billing, count, fill, new_cart, row_counts


@pytest.fixture
def app_config(fake_stripe):
    return fake_stripe.app_config()


@pytest.fixture
def staff(make):
    return make.user(role=Role.STAFF)


@pytest.fixture
def order(db, make, fake_stripe):
    """A booked order of two 45 $ sessions, paid by card at Stripe."""
    order = make.booked_order(items=2, provider="stripe")
    payment = order.payments[0]
    payment.gateway_payment_id = fake_stripe.paid_intent(payment.amount_cents, {"order_id": str(order.id)})
    db.session.commit()
    return order


def intent_of(order):
    return order.payments[0].gateway_payment_id


def deliver(client, fake_stripe, event):
    payload, header = fake_stripe.sign(event, WEBHOOK_SECRET)
    response = client.post(
        "/webhooks/stripe", data=payload, content_type="application/json", headers={"Stripe-Signature": header}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["applique"]


def refund(db, order, amount, staff, now, gateway, cancel=()):
    made = refunds.refund_order(order, amount, [i.id for i in cancel], "Séance annulée", staff, now, gateway, _key())
    db.session.commit()
    return made


def _key():
    return uuid.uuid4().hex


def refunded_this_month(now):
    today = to_local(now).date()
    [(_period, figures)] = reports.revenue_series(reports.months(today, today))
    return figures.refunded_cents


def fresh(db, *rows):
    db.session.expire_all()
    return rows


# Pending refunds


def test_a_pending_refund_counts_as_refunded_until_stripe_confirms_it(
    client, db, order, staff, now, gateway, fake_stripe
):
    fake_stripe.refund_status = "pending"
    first, second = order.items

    pending = refund(db, order, 4500, staff, now, gateway, cancel=[first])

    assert (pending.status, pending.processed_at) == ("pending", None)
    assert pending.gateway_refund_id in fake_stripe.refunds
    # Its session is cancelled and its money no longer refundable, but revenue waits for the outcome.
    assert first.appointment.status == AppointmentStatus.CANCELLED
    assert order.status == "partially_refunded"
    assert balances.refundable_cents(order) == 4500
    assert refunded_this_month(now) == 0
    assert count(db, OutboxEvent, OutboxEvent.event_type == "refund.processed") == 1
    with pytest.raises(refunds.RefundError, match="dépasse ce qui reste"):
        refunds.refund_order(order, 4501, [], "Geste", staff, now, gateway, _key())
    db.session.rollback()

    fake_stripe.settle_refund(pending.gateway_refund_id, "succeeded")
    event = fake_stripe.refund_event(pending.gateway_refund_id)
    assert deliver(client, fake_stripe, event) is True

    fresh(db)
    assert pending.status == "succeeded"
    assert pending.processed_at == datetime.fromtimestamp(event["created"], UTC)
    assert (order.status, order.flagged_at) == ("partially_refunded", None)
    assert balances.refundable_cents(order) == 4500
    assert refunded_this_month(now) == 4500
    assert second.appointment.status == AppointmentStatus.SCHEDULED
    assert count(db, OutboxEvent, OutboxEvent.event_type == "refund.processed") == 1


def test_a_pending_refund_that_fails_flags_the_order_and_can_be_refunded_again(
    client, db, order, staff, now, gateway, fake_stripe
):
    fake_stripe.refund_status = "pending"
    pending = refund(db, order, 9000, staff, now, gateway, cancel=order.items)
    assert order.status == "refunded" and balances.refundable_cents(order) == 0

    fake_stripe.settle_refund(pending.gateway_refund_id, "failed", "expired_or_canceled_card")
    deliver(client, fake_stripe, fake_stripe.refund_event(pending.gateway_refund_id, "refund.updated"))

    fresh(db)
    assert (pending.status, pending.processed_at) == ("failed", None)
    assert pending.failure_message == "Échec chez Stripe : carte expirée ou annulée."
    assert order.flagged_at is not None
    assert order.flag_reason == f"Le remboursement #{pending.id} a échoué chez Stripe : carte expirée ou annulée"
    # The money is still with 4AS: the order is paid again, its card parts refundable, revenue untouched.
    assert order.status == "paid"
    assert balances.refundable_cents(order) == 9000
    assert refunded_this_month(now) == 0
    # The sessions stay cancelled; the office refunds the card some other way, or again.
    assert {i.appointment.status for i in order.items} == {AppointmentStatus.CANCELLED}
    fake_stripe.refund_status = "succeeded"
    again = refund(db, order, 9000, staff, now, gateway)
    assert (again.status, order.status, refunded_this_month(now)) == ("succeeded", "refunded", 9000)


@pytest.mark.parametrize("outcome", ["succeeded", "failed"])
def test_replayed_and_late_refund_events_never_undo_an_outcome(
    client, db, order, staff, now, gateway, fake_stripe, outcome
):
    fake_stripe.refund_status = "pending"
    pending = refund(db, order, 2000, staff, now, gateway)
    stale = fake_stripe.refund_event(pending.gateway_refund_id)  # still pending, delivered late
    fake_stripe.settle_refund(pending.gateway_refund_id, outcome, "declined")
    settled = fake_stripe.refund_event(pending.gateway_refund_id)

    answers = [deliver(client, fake_stripe, e) for e in (settled, stale, settled)]
    # Stripe reports the change twice, as charge.refund.updated and refund.updated.
    answers.append(deliver(client, fake_stripe, fake_stripe.refund_event(pending.gateway_refund_id, "refund.updated")))
    if outcome == "failed":
        # A failed refund stays failed, even if an older "succeeded" turns up.
        fake_stripe.settle_refund(pending.gateway_refund_id, "succeeded")
        answers.append(deliver(client, fake_stripe, fake_stripe.refund_event(pending.gateway_refund_id)))

    fresh(db)
    assert answers[:4] == [True, True, False, True]
    assert pending.status == outcome
    assert (pending.processed_at is not None) == (outcome == "succeeded")
    assert refunded_this_month(now) == (2000 if outcome == "succeeded" else 0)
    assert order.status == ("partially_refunded" if outcome == "succeeded" else "paid")
    assert (order.flag_reason or "").count("a échoué chez Stripe") == (outcome == "failed")


def test_a_refund_that_fails_after_succeeding_is_taken_out_of_revenue(
    client, db, order, staff, now, gateway, fake_stripe
):
    done = refund(db, order, 2000, staff, now, gateway)
    assert done.status == "succeeded" and refunded_this_month(now) == 2000

    fake_stripe.settle_refund(done.gateway_refund_id, "failed", "lost_or_stolen_card")
    deliver(client, fake_stripe, fake_stripe.refund_event(done.gateway_refund_id))

    fresh(db)
    assert (done.status, order.status, refunded_this_month(now)) == ("failed", "paid", 0)
    assert "carte déclarée perdue ou volée" in order.flag_reason


def test_an_update_about_a_refund_unknown_here_is_recorded_and_ignored(client, db, order, fake_stripe, caplog):
    stranger = fake_stripe.dashboard_refund(intent_of(order), 1000, status="pending")
    fake_stripe.settle_refund(stranger["id"], "succeeded")
    before = row_counts(db)

    with caplog.at_level("INFO", logger="tutoradmin.gateway_sync"):
        assert deliver(client, fake_stripe, fake_stripe.refund_event(stranger["id"])) is True

    assert stranger["id"] in caplog.text
    assert row_counts(db) == {**before, "gateway_events": before["gateway_events"] + 1}
    assert fresh(db, order)[0].flagged_at is None


# Refunds made in Stripe's dashboard


@pytest.mark.parametrize("listed", [True, False], ids=["charge-lists-refunds", "refunds-asked-for"])
def test_a_dashboard_refund_is_recorded_once_and_flagged_without_cancelling_sessions(
    client, db, order, now, fake_stripe, listed
):
    made = fake_stripe.dashboard_refund(intent_of(order), 3001)

    deliver(client, fake_stripe, fake_stripe.charge_refunded_event(intent_of(order), with_refunds=listed))
    deliver(client, fake_stripe, fake_stripe.charge_refunded_event(intent_of(order), with_refunds=listed))

    fresh(db)
    [recorded] = db.session.scalars(select(Refund)).all()
    assert (recorded.order_id, recorded.payment_id, recorded.created_by_id) == (order.id, order.payments[0].id, None)
    assert recorded.reason == "Remboursement fait dans le tableau de bord Stripe"
    assert (recorded.gateway_refund_id, recorded.idempotency_key) == (made["id"], f"stripe-refund-{made['id']}")
    assert (recorded.amount_cents, recorded.status) == (3001, "succeeded") and recorded.processed_at is not None
    # Spread over the sessions' card parts, cancelling none of them.
    assert sorted(i.amount_cents for i in recorded.items) == [1500, 1501]
    assert {i.cancels_appointment for i in recorded.items} == {False}
    assert {i.appointment.status for i in order.items} == {AppointmentStatus.SCHEDULED}
    assert order.status == "partially_refunded" and balances.refundable_cents(order) == 9000 - 3001
    assert order.flag_reason == f"Remboursement de {money(3001)} fait dans Stripe : choisir les séances à annuler"
    assert refunded_this_month(now) == 3001
    # The student hears of it once, as of a refund made from the back office.
    [event] = db.session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == "refund.processed")).all()
    assert (event.payload["refund_id"], event.payload["amount"]["cents"]) == (recorded.id, 3001)
    if not listed:
        assert fake_stripe.sent("GET", "/v1/refunds")


def test_a_pending_dashboard_refund_follows_its_outcome(client, db, order, fake_stripe):
    made = fake_stripe.dashboard_refund(intent_of(order), 9000, status="pending")
    deliver(client, fake_stripe, fake_stripe.charge_refunded_event(intent_of(order)))
    fresh(db)
    [recorded] = db.session.scalars(select(Refund)).all()
    assert (recorded.status, order.status) == ("pending", "refunded")

    fake_stripe.settle_refund(made["id"], "succeeded")
    deliver(client, fake_stripe, fake_stripe.charge_refunded_event(intent_of(order)))

    fresh(db)
    assert recorded.status == "succeeded" and count(db, Refund) == 1


def test_a_refund_made_here_is_not_recorded_again_when_stripe_reports_the_charge(
    client, db, order, staff, now, gateway, fake_stripe
):
    ours = refund(db, order, 4500, staff, now, gateway, cancel=order.items[:1])

    deliver(client, fake_stripe, fake_stripe.charge_refunded_event(intent_of(order)))

    fresh(db)
    assert db.session.scalars(select(Refund.id)).all() == [ours.id]
    assert order.flagged_at is None and order.status == "partially_refunded"


def test_a_refund_made_here_but_not_yet_committed_is_left_to_its_request(client, db, order, fake_stripe):
    # The refund request is still between Stripe's answer and its commit when the event arrives.
    fake_stripe.create_refund(
        {"payment_intent": intent_of(order), "amount": "1000", "metadata": {"idempotency_key": "refund-order-x"}}
    )

    deliver(client, fake_stripe, fake_stripe.charge_refunded_event(intent_of(order)))

    assert count(db, Refund) == 0 and fresh(db, order)[0].flagged_at is None


# Disputes


def test_a_dispute_is_recorded_flagged_and_closed_once(client, db, order, fake_stripe):
    opened = fake_stripe.open_dispute(intent_of(order), reason="fraudulent")
    created = fake_stripe.dispute_event(opened["id"])

    assert [deliver(client, fake_stripe, created) for _ in range(2)] == [True, False]
    # The same news under another event id changes nothing either.
    deliver(client, fake_stripe, fake_stripe.dispute_event(opened["id"]))

    fresh(db)
    [dispute] = db.session.scalars(select(Dispute)).all()
    assert (dispute.order_id, dispute.payment_id, dispute.gateway_dispute_id) == (
        order.id,
        order.payments[0].id,
        opened["id"],
    )
    assert (dispute.amount_cents, dispute.reason, dispute.status, dispute.closed_at) == (
        9000,
        "fraudulent",
        "needs_response",
        None,
    )
    assert order.flag_reason == f"Litige bancaire ouvert : Fraude, {money(9000)}"
    flagged_at = order.flagged_at

    opened["status"] = "under_review"
    deliver(client, fake_stripe, fake_stripe.dispute_event(opened["id"], "charge.dispute.updated"))
    fresh(db)
    assert (dispute.status, dispute.closed_at) == ("under_review", None)

    opened["status"] = "lost"
    closed = fake_stripe.dispute_event(opened["id"], "charge.dispute.closed")
    deliver(client, fake_stripe, closed)
    # A late "created" does not reopen it.
    deliver(client, fake_stripe, created | {"id": "evt_late_created"})

    fresh(db)
    assert dispute.status == "lost"
    assert dispute.closed_at == datetime.fromtimestamp(closed["created"], UTC)
    # Staff clear the flag themselves.
    assert (order.flagged_at, order.flag_reason) == (flagged_at, f"Litige bancaire ouvert : Fraude, {money(9000)}")
    assert count(db, Dispute) == 1


def test_a_dispute_naming_only_its_charge_is_traced_to_the_order(client, db, order, fake_stripe):
    opened = fake_stripe.open_dispute(intent_of(order), reason="product_not_received", with_payment_intent=False)

    deliver(client, fake_stripe, fake_stripe.dispute_event(opened["id"]))

    fresh(db)
    assert db.session.scalars(select(Dispute.order_id)).all() == [order.id]
    assert order.flag_reason == f"Litige bancaire ouvert : Service non reçu, {money(9000)}"


def test_a_dispute_first_heard_of_when_closed_is_recorded_closed(client, db, order, fake_stripe):
    opened = fake_stripe.open_dispute(intent_of(order), reason="duplicate", status="won")

    deliver(client, fake_stripe, fake_stripe.dispute_event(opened["id"], "charge.dispute.closed"))

    fresh(db)
    [dispute] = db.session.scalars(select(Dispute)).all()
    assert dispute.status == "won" and dispute.closed_at is not None and order.flagged_at is not None


def test_a_dispute_about_a_payment_unknown_here_is_ignored(client, db, order, fake_stripe):
    other = fake_stripe.paid_intent(5000)
    opened = fake_stripe.open_dispute(other)

    assert deliver(client, fake_stripe, fake_stripe.dispute_event(opened["id"])) is True

    assert count(db, Dispute) == 0 and fresh(db, order)[0].flagged_at is None


# Malformed objects


def _refund_object(fake_stripe, order):
    return dict(fake_stripe.dashboard_refund(intent_of(order), 1000))


def _charge_object(fake_stripe, order):
    fake_stripe.dashboard_refund(intent_of(order), 1000)
    return fake_stripe.charge(intent_of(order))


def _dispute_object(fake_stripe, order):
    return dict(fake_stripe.open_dispute(intent_of(order)))


def _listed(charge):
    return charge["refunds"]["data"][0]


MALFORMED = [
    ("refund.updated", _refund_object, lambda r: r.update(amount="1000")),
    ("charge.refund.updated", _refund_object, lambda r: r.update(amount=True)),
    ("charge.refund.updated", _refund_object, lambda r: r.update(id="re_" + "x" * 300)),
    ("charge.refund.updated", _refund_object, lambda r: r.update(status=3)),
    ("charge.refund.updated", _refund_object, lambda r: r.pop("status")),
    ("refund.updated", _refund_object, lambda r: r.update(metadata=["idempotency_key"])),
    ("charge.refunded", _charge_object, lambda c: c.update(payment_intent=["pi_1"])),
    ("charge.refunded", _charge_object, lambda c: c["refunds"].update(data={"id": "re_1"})),
    ("charge.refunded", _charge_object, lambda c: _listed(c).update(amount=-5)),
    ("charge.refunded", _charge_object, lambda c: _listed(c).update(id="re_\x00")),
    ("charge.refunded", _charge_object, lambda c: c.update(refunds="re_1")),
    ("charge.dispute.created", _dispute_object, lambda d: d.update(amount=2.5)),
    ("charge.dispute.created", _dispute_object, lambda d: d.update(amount=2**40)),
    ("charge.dispute.created", _dispute_object, lambda d: d.update(id=None)),
    ("charge.dispute.updated", _dispute_object, lambda d: d.update(reason={"code": "fraudulent"})),
    ("charge.dispute.closed", _dispute_object, lambda d: d.update(created="hier")),
]


@pytest.mark.parametrize(("event_type", "build", "damage"), MALFORMED)
def test_a_signed_event_with_a_malformed_object_is_refused_and_writes_nothing(
    client, db, order, fake_stripe, event_type, build, damage
):
    obj = build(fake_stripe, order)
    damage(obj)
    event = fake_stripe.event_about(event_type, obj)
    before = row_counts(db)

    payload, header = fake_stripe.sign(event, WEBHOOK_SECRET)
    response = client.post(
        "/webhooks/stripe", data=payload, content_type="application/json", headers={"Stripe-Signature": header}
    )

    assert response.status_code == 400
    assert row_counts(db) == before and count(db, GatewayEvent) == 0


def test_the_objects_stripe_sends_are_well_formed(order, fake_stripe):
    assert gateway_sync.well_formed("refund.updated", _refund_object(fake_stripe, order))
    assert gateway_sync.well_formed("charge.refunded", _charge_object(fake_stripe, order))
    assert gateway_sync.well_formed("charge.dispute.created", _dispute_object(fake_stripe, order))


def test_refund_items_of_a_dashboard_refund_add_up_to_it(client, db, order, fake_stripe):
    fake_stripe.dashboard_refund(intent_of(order), 9000)
    deliver(client, fake_stripe, fake_stripe.charge_refunded_event(intent_of(order)))
    fresh(db)
    assert sum(db.session.scalars(select(RefundItem.amount_cents))) == 9000
    assert order.status == "refunded"


def test_a_dashboard_refund_reported_before_the_payment_success_books_the_order_first(
    client, db, make, offer, gateway, now, fake_stripe
):
    student = make.user()
    cart = new_cart(db, student)
    fill(cart, offer, 10, now=now)
    order, payment = start_checkout(cart, billing(student.email), now, gateway, user=student)
    db.session.commit()
    fake_stripe.pay_in_browser(payment.gateway_payment_id)
    fake_stripe.dashboard_refund(payment.gateway_payment_id, 1000)

    deliver(client, fake_stripe, fake_stripe.charge_refunded_event(payment.gateway_payment_id))
    deliver(client, fake_stripe, fake_stripe.event("payment_intent.succeeded", payment.gateway_payment_id))

    fresh(db)
    assert (payment.status, order.status) == ("succeeded", "partially_refunded")
    assert order.items[0].appointment.status == AppointmentStatus.SCHEDULED
    assert db.session.scalars(select(Refund.amount_cents)).all() == [1000]
    assert balances.refundable_cents(order) == 3500
    assert "choisir les séances à annuler" in order.flag_reason


def test_an_event_that_needs_stripe_while_it_is_unreachable_is_refused_for_a_later_retry(
    client, db, order, fake_stripe
):
    fake_stripe.dashboard_refund(intent_of(order), 3001)
    event = fake_stripe.charge_refunded_event(intent_of(order), with_refunds=False)
    payload, header = fake_stripe.sign(event, WEBHOOK_SECRET)
    fake_stripe.fail_next = 10

    response = client.post(
        "/webhooks/stripe", data=payload, content_type="application/json", headers={"Stripe-Signature": header}
    )

    # 503: Stripe sends the event again later; nothing of it is kept meanwhile, not even its id.
    assert response.status_code == 503
    fresh(db)
    assert db.session.scalars(select(Refund)).all() == []
    assert event["id"] not in db.session.scalars(select(GatewayEvent.event_id)).all()
    fake_stripe.fail_next = 0
    assert deliver(client, fake_stripe, event) is True
    assert [r.amount_cents for r in db.session.scalars(select(Refund))] == [3001]

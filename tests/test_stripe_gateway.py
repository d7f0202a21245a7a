"""The Stripe gateway through the real `stripe` library, against the local fake Stripe server."""

import pytest

from tutoradmin.payments import CARD_DECLINED, Card, GatewayError, RefundResult, get_gateway
from tutoradmin.payments.base import UNAVAILABLE


@pytest.fixture
def gateway(fake_stripe):
    return get_gateway(
        {
            "STRIPE_SECRET_KEY": fake_stripe.secret_key,
            "STRIPE_PUBLISHABLE_KEY": "pk_test_4as",
            "STRIPE_API_BASE": fake_stripe.url,
        }
    )


@pytest.fixture
def student(make):
    return make.user(email="lea.gagnon@example.com", first_name="Léa", last_name="Gagnon")


@pytest.fixture
def customer(gateway, student):
    return gateway.ensure_customer(student)


@pytest.fixture
def order(make, student):
    return make.order(user=student, status="pending", items=2)


def paid_intent(fake_stripe, gateway, order, customer):
    """A PaymentIntent for `order`, paid by card in the browser."""
    started = gateway.create_payment(order, customer, f"order-{order.id}-payment")
    return fake_stripe.pay_in_browser(started.payment_id)["id"]


# Customers


def test_a_student_gets_one_stripe_customer_however_often_they_pay(fake_stripe, gateway, student):
    first = gateway.ensure_customer(student)
    again = gateway.ensure_customer(student)

    assert first == again == student.stripe_customer_id
    created = fake_stripe.sent("POST", "/v1/customers")
    assert len(created) == 1 and list(fake_stripe.customers) == [first]
    assert created[0].params == {
        "email": "lea.gagnon@example.com",
        "name": "Léa Gagnon",
        "metadata": {"user_id": str(student.id)},
    }
    assert created[0].idempotency_key.startswith(f"customer-user-{student.id}-")
    assert created[0].authorization == f"Bearer {fake_stripe.secret_key}"


def test_a_customer_stripe_could_not_create_is_not_stored(fake_stripe, gateway, student):
    fake_stripe.fail_next = 99

    with pytest.raises(GatewayError, match=UNAVAILABLE):
        gateway.ensure_customer(student)
    assert student.stripe_customer_id is None


# PaymentIntents


def test_a_payment_intent_is_in_cad_cents_for_the_order_and_its_customer(fake_stripe, gateway, order, customer):
    started = gateway.create_payment(order, customer, f"order-{order.id}-payment")

    intent = fake_stripe.intents[started.payment_id]
    assert (intent["amount"], intent["currency"], intent["customer"]) == (9000, "cad", customer)
    assert intent["metadata"] == {"order_id": str(order.id)}
    assert intent["setup_future_usage"] is None and intent["payment_method"] is None
    assert (started.status, started.client_secret) == ("requires_payment_method", intent["client_secret"])
    [sent] = fake_stripe.sent("POST", "/v1/payment_intents")
    assert sent.idempotency_key == f"order-{order.id}-payment"
    assert sent.params["automatic_payment_methods"] == {"enabled": "true"}
    assert "confirm" not in sent.params


def test_the_client_secret_is_read_back_from_stripe(fake_stripe, gateway, order, customer):
    started = gateway.create_payment(order, customer, "order-key")

    assert gateway.client_secret(started.payment_id) == fake_stripe.intents[started.payment_id]["client_secret"]
    assert fake_stripe.sent("GET", f"/v1/payment_intents/{started.payment_id}")


def test_creating_a_payment_again_with_the_same_key_returns_the_same_intent(fake_stripe, gateway, order, customer):
    first = gateway.create_payment(order, customer, f"order-{order.id}-payment")
    again = gateway.create_payment(order, customer, f"order-{order.id}-payment")

    assert again == first
    assert list(fake_stripe.intents) == [first.payment_id]
    assert len(fake_stripe.sent("POST", "/v1/payment_intents")) == 2


def test_saving_the_card_asks_stripe_to_keep_it_for_later_purchases(fake_stripe, gateway, order, customer):
    started = gateway.create_payment(order, customer, "order-key", save_card=True)

    assert fake_stripe.sent("POST", "/v1/payment_intents")[0].params["setup_future_usage"] == "off_session"
    fake_stripe.pay_in_browser(started.payment_id, "pm_card_mastercard")
    assert [(c.brand, c.last4) for c in gateway.saved_cards(customer)] == [("mastercard", "4444")]


def test_a_saved_card_is_charged_at_once_without_a_redirect(fake_stripe, gateway, order, customer):
    card = fake_stripe.add_card(customer)

    started = gateway.create_payment(order, customer, "order-key", payment_method_id=card)

    assert started.status == "succeeded"
    assert fake_stripe.intents[started.payment_id]["amount_received"] == 9000
    params = fake_stripe.sent("POST", "/v1/payment_intents")[0].params
    assert (params["payment_method"], params["confirm"]) == (card, "true")
    assert params["automatic_payment_methods"] == {"enabled": "true", "allow_redirects": "never"}


def test_a_declined_card_gives_the_french_message(fake_stripe, gateway, order, customer):
    card = fake_stripe.add_card(customer, "pm_card_chargeDeclined")

    with pytest.raises(GatewayError) as refused:
        gateway.create_payment(order, customer, "order-key", payment_method_id=card)

    assert str(refused.value) == CARD_DECLINED == "Votre carte a été refusée."
    [intent] = fake_stripe.intents.values()
    assert intent["status"] == "requires_payment_method"
    assert intent["last_payment_error"]["decline_code"] == "generic_decline"


def test_another_customers_card_cannot_be_charged(fake_stripe, gateway, order, customer, make):
    other = gateway.ensure_customer(make.user())
    card = fake_stripe.add_card(other)

    with pytest.raises(GatewayError):
        gateway.create_payment(order, customer, "order-key", payment_method_id=card)
    assert all(i["status"] != "succeeded" for i in fake_stripe.intents.values())


def test_server_errors_are_retried_with_the_same_key_until_stripe_answers(fake_stripe, gateway, order, customer):
    fake_stripe.fail_next = 2

    started = gateway.create_payment(order, customer, f"order-{order.id}-payment")

    attempts = fake_stripe.sent("POST", "/v1/payment_intents")
    assert len(attempts) == 3
    assert {a.idempotency_key for a in attempts} == {f"order-{order.id}-payment"}
    assert list(fake_stripe.intents) == [started.payment_id]


def test_a_lasting_outage_gives_the_french_unavailable_message(fake_stripe, gateway, order, customer):
    fake_stripe.fail_next = 99

    with pytest.raises(GatewayError) as refused:
        gateway.create_payment(order, customer, "order-key")

    assert str(refused.value) == "Le service de paiement est momentanément indisponible. Veuillez réessayer."
    assert len(fake_stripe.sent("POST", "/v1/payment_intents")) == 3  # the first try and two retries
    assert fake_stripe.intents == {}


# Saved cards


def test_saved_cards_are_the_customers_own(fake_stripe, gateway, customer, make):
    visa = fake_stripe.add_card(customer)
    mastercard = fake_stripe.add_card(customer, "pm_card_mastercard", exp=(3, 2031))
    fake_stripe.add_card(gateway.ensure_customer(make.user()))

    cards = gateway.saved_cards(customer)

    assert sorted(cards, key=lambda c: c.last4) == [
        Card(visa, "visa", "4242", 12, 2034),
        Card(mastercard, "mastercard", "4444", 3, 2031),
    ]
    assert fake_stripe.sent("GET", "/v1/payment_methods")[-1].params == {"customer": customer, "type": "card"}


def test_someone_without_a_customer_has_no_saved_cards_and_stripe_is_not_asked(fake_stripe, gateway):
    assert gateway.saved_cards(None) == []
    assert fake_stripe.requests == []


# Refunds


def test_a_full_refund_returns_the_whole_payment(fake_stripe, gateway, order, customer):
    intent = paid_intent(fake_stripe, gateway, order, customer)

    result = gateway.refund(intent, 9000, "refund-1")

    [refund] = fake_stripe.refunds.values()
    assert result == RefundResult(refund["id"], "succeeded")
    assert (refund["payment_intent"], refund["amount"], refund["currency"]) == (intent, 9000, "cad")
    assert fake_stripe.sent("POST", "/v1/refunds")[0].idempotency_key == "refund-1"


def test_partial_refunds_add_up_to_the_payment_and_no_further(fake_stripe, gateway, order, customer):
    intent = paid_intent(fake_stripe, gateway, order, customer)

    gateway.refund(intent, 4500, "refund-1")
    gateway.refund(intent, 3000, "refund-2")
    with pytest.raises(GatewayError):
        gateway.refund(intent, 1501, "refund-3")

    assert sorted(r["amount"] for r in fake_stripe.refunds.values()) == [3000, 4500]
    gateway.refund(intent, 1500, "refund-4")
    assert sum(r["amount"] for r in fake_stripe.refunds.values()) == 9000


def test_a_refund_sent_twice_with_its_key_is_made_once(fake_stripe, gateway, order, customer):
    intent = paid_intent(fake_stripe, gateway, order, customer)
    fake_stripe.fail_next = 1

    first = gateway.refund(intent, 2500, f"order-{order.id}-refund-1")
    again = gateway.refund(intent, 2500, f"order-{order.id}-refund-1")

    assert first == again
    assert [r["amount"] for r in fake_stripe.refunds.values()] == [2500]


def test_an_unpaid_intent_cannot_be_refunded(fake_stripe, gateway, order, customer):
    started = gateway.create_payment(order, customer, "order-key")

    with pytest.raises(GatewayError):
        gateway.refund(started.payment_id, 9000, "refund-1")
    assert fake_stripe.refunds == {}


# Abandoned payments


def test_an_abandoned_payment_is_cancelled_at_stripe_and_a_paid_one_cannot_be(fake_stripe, gateway, order, customer):
    started = gateway.create_payment(order, customer, f"order-{order.id}-payment")

    gateway.cancel_payment(started.payment_id, f"order-{order.id}-payment-cancel")

    assert fake_stripe.intents[started.payment_id]["status"] == "canceled"
    cancel = fake_stripe.sent("POST", f"/v1/payment_intents/{started.payment_id}/cancel")[0]
    assert cancel.params == {"cancellation_reason": "abandoned"}
    assert cancel.idempotency_key == f"order-{order.id}-payment-cancel"
    paid = fake_stripe.pay_in_browser(gateway.create_payment(order, customer, "another-attempt").payment_id)["id"]
    with pytest.raises(GatewayError):
        gateway.cancel_payment(paid, "cancel-paid")
    assert fake_stripe.intents[paid]["status"] == "succeeded"

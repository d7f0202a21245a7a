"""Checkout through HTTP with Stripe configured: the fake Stripe server plays Stripe, events come signed."""

import json
import re
from datetime import time, timedelta
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from tutoradmin.localtime import LOCAL_TZ, local_instant
from tutoradmin.models import Appointment, CartItem, Hold, Order, Payment, User, utcnow
from tutoradmin.payments.base import sign_payload

from .fake_stripe import PUBLISHABLE_KEY, WEBHOOK_SECRET
from .shopping import count

BILLING = {
    "first_name": "Léa",
    "last_name": "Gagnon",
    "phone": "418 555-0101",
    "address": "12 rue Cartier",
    "city": "Québec",
    "postal_code": "g1r 2s3",
}


@pytest.fixture
def app_config(fake_stripe):
    return fake_stripe.app_config()


class FormReader(HTMLParser):
    """What a browser sends from the checkout form: its fields in page order, and the choices it offers."""

    def __init__(self, html):
        super().__init__()
        self.fields, self.choices, self._inside, self._select = [], {}, False, None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._inside = attrs.get("action") == "/checkout"
        elif self._inside and tag == "input" and attrs.get("type") in ("radio", "checkbox"):
            self.choices.setdefault(attrs["name"], []).append(attrs.get("value", "y"))
            if "checked" in attrs:
                self.fields.append((attrs["name"], attrs.get("value", "y")))
        elif self._inside and tag == "input" and attrs.get("type") != "submit":
            self.fields.append((attrs["name"], attrs.get("value", "")))
        elif self._inside and tag == "select":
            self._select = attrs["name"]
        elif self._select and tag == "option" and ("selected" in attrs or self._select not in dict(self.fields)):
            self.fields = [f for f in self.fields if f[0] != self._select] + [(self._select, attrs["value"])]

    def handle_endtag(self, tag):
        if tag == "form":
            self._inside = False
        elif tag == "select":
            self._select = None


def pay(client, saved_card=None, save_card=False, **values):
    """Open /checkout, fill it in like a browser (billing, a saved card, the save box) and submit it."""
    page = client.get("/checkout")
    assert page.status_code == 200, page.get_data(as_text=True)
    form = FormReader(page.get_data(as_text=True))
    filled = {**BILLING, **values}
    data = MultiDict([(name, filled.get(name, value)) for name, value in form.fields])
    if saved_card:
        assert saved_card in form.choices.get("saved_card", []), "the card is not offered"
        data.add("saved_card", saved_card)
    if save_card:
        data.add("save_card", "y")
    return client.post("/checkout", data=data)


def client_secret(response):
    """The client secret the Stripe payment page hands to Stripe.js."""
    return re.search(r'data-client-secret="([^"]*)"', response.get_data(as_text=True)).group(1)


def deliver(client, fake_stripe, event_type, intent_id, secret=WEBHOOK_SECRET):
    """Post a Stripe event about the intent to the webhook, signed as Stripe signs it."""
    payload = json.dumps(fake_stripe.event(event_type, intent_id)).encode()
    return client.post(
        "/webhooks/stripe",
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": sign_payload(payload, secret)},
    )


@pytest.fixture
def offer(db, make):
    """A course with a tutor free every day from 9:00 to 17:00, and a day a week ahead."""
    course = make.course(slug="chimie-secondaire", rate_cents=5000)
    tutor = make.tutor(courses=[course], display_name="Alice Premier")
    for weekday in range(7):
        make.weekly_rule(tutor, weekday=weekday, start=time(9), end=time(17))
    db.session.commit()
    day = (utcnow().astimezone(LOCAL_TZ) + timedelta(days=7)).date()
    return SimpleNamespace(course=course, tutor=tutor, start=local_instant(day, time(10)))


@pytest.fixture
def student(db, make, login, client, offer):
    """A logged-in student with one hour of chemistry held in the cart."""
    user = make.user(email="lea.gagnon@example.com", first_name="Léa", last_name="Gagnon")
    db.session.commit()
    login(user)
    add_to_cart(client, offer)
    return user


def add_to_cart(client, offer):
    slot = {"debut": offer.start.isoformat(), "duree": 60}
    added = client.post(
        "/panier/ajouter", json={"cours": offer.course.slug, "creneaux": [slot]}, headers={"Accept": "application/json"}
    )
    assert added.status_code == 200, added.get_data(as_text=True)


def with_customer(db, fake_stripe, user, *cards):
    """Give the student a Stripe customer with saved cards; returns the cards' ids."""
    user.stripe_customer_id = fake_stripe.create_customer({"email": user.email})["id"]
    db.session.commit()
    return [fake_stripe.add_card(user.stripe_customer_id, card) for card in cards]


def test_a_student_pays_in_the_payment_element_and_the_signed_event_books_the_order(
    db, client, fake_stripe, student, offer
):
    response = pay(client)

    assert response.status_code == 200
    [intent] = fake_stripe.intents.values()
    assert client_secret(response) == intent["client_secret"]
    assert f'data-publishable-key="{PUBLISHABLE_KEY}"' in response.get_data(as_text=True)
    order = db.session.scalar(select(Order))
    [payment] = order.payments
    assert (order.status, order.total_cents) == ("pending", 5000)
    assert (payment.provider, payment.gateway_payment_id, payment.amount_cents) == ("stripe", intent["id"], 5000)
    assert (intent["amount"], intent["currency"], intent["metadata"]) == (5000, "cad", {"order_id": str(order.id)})
    assert intent["customer"] == db.session.get(User, student.id).stripe_customer_id
    [sent] = fake_stripe.sent("POST", "/v1/payment_intents")
    assert sent.idempotency_key == payment.idempotency_key
    assert sent.idempotency_key.startswith(f"order-{order.id}-payment-")
    assert "setup_future_usage" not in sent.params and count(db, Appointment) == 0

    fake_stripe.pay_in_browser(intent["id"])
    delivered = deliver(client, fake_stripe, "payment_intent.succeeded", intent["id"])

    assert delivered.status_code == 200 and delivered.get_json()["applique"] is True
    db.session.expire_all()
    assert (order.status, payment.status) == ("paid", "succeeded")
    [appointment] = db.session.scalars(select(Appointment)).all()
    assert (appointment.student_id, appointment.tutor_id, appointment.starts_at) == (
        student.id,
        offer.tutor.id,
        offer.start,
    )
    assert count(db, CartItem) == count(db, Hold) == 0
    back = client.get(f"/paiement/retour?commande={order.id}")
    assert back.status_code == 302 and back.headers["Location"].endswith("/tableau-de-bord")


def test_an_event_not_signed_with_the_stripe_webhook_secret_changes_nothing(db, client, fake_stripe, student):
    pay(client)
    [intent] = fake_stripe.intents.values()
    fake_stripe.pay_in_browser(intent["id"])

    response = deliver(client, fake_stripe, "payment_intent.succeeded", intent["id"], secret="whsec_someone_else")

    assert response.status_code == 400
    assert db.session.scalar(select(Order.status)) == "pending" and count(db, Appointment) == 0


def test_after_a_declined_card_in_the_page_the_order_is_paid_on_the_same_intent(db, client, fake_stripe, student):
    first = pay(client)
    [intent] = fake_stripe.intents.values()
    fake_stripe.pay_in_browser(intent["id"], "pm_card_chargeDeclined")
    deliver(client, fake_stripe, "payment_intent.payment_failed", intent["id"])

    db.session.expire_all()
    order = db.session.scalar(select(Order))
    assert (order.status, order.payments[0].status) == ("pending", "failed")
    again = pay(client)

    assert client_secret(again) == client_secret(first) == intent["client_secret"]
    assert list(fake_stripe.intents) == [intent["id"]] and count(db, Order) == 1
    fake_stripe.pay_in_browser(intent["id"], "pm_card_visa")
    deliver(client, fake_stripe, "payment_intent.succeeded", intent["id"])
    db.session.expire_all()
    assert (order.status, order.payments[0].status) == ("paid", "succeeded") and count(db, Appointment) == 1


def test_after_a_declined_card_in_the_page_a_saved_card_is_charged_on_a_new_intent(db, client, fake_stripe, student):
    [visa] = with_customer(db, fake_stripe, student, "pm_card_visa")
    pay(client)
    [declined] = fake_stripe.intents.values()
    fake_stripe.pay_in_browser(declined["id"], "pm_card_chargeDeclined")
    deliver(client, fake_stripe, "payment_intent.payment_failed", declined["id"])

    again = pay(client, saved_card=visa)

    assert again.status_code == 302, again.get_data(as_text=True)
    charged = [i for i in fake_stripe.intents.values() if i["id"] != declined["id"]]
    assert [(i["payment_method"], i["status"]) for i in charged] == [(visa, "succeeded")]
    # The declined intent is stopped, so that the old page can no longer pay the abandoned order.
    assert declined["status"] == "canceled"
    deliver(client, fake_stripe, "payment_intent.succeeded", charged[0]["id"])
    db.session.expire_all()
    assert sorted(db.session.scalars(select(Order.status))) == ["failed", "paid"]
    assert count(db, Appointment) == 1


def test_the_saved_cards_are_offered_and_the_chosen_one_is_charged_at_once(db, client, fake_stripe, student):
    _visa, mastercard = with_customer(db, fake_stripe, student, "pm_card_visa", "pm_card_mastercard")
    page = client.get("/checkout").get_data(as_text=True)
    assert "VISA •••• 4242 (12/2034)" in page and "MASTERCARD •••• 4444" in page

    response = pay(client, saved_card=mastercard)

    [intent] = fake_stripe.intents.values()
    assert (intent["payment_method"], intent["status"], intent["customer"]) == (
        mastercard,
        "succeeded",
        student.stripe_customer_id,
    )
    assert fake_stripe.sent("POST", "/v1/customers") == []
    order = db.session.scalar(select(Order))
    # No card form for a payment already made: the return page waits for Stripe's event.
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/paiement/retour?commande={order.id}")
    assert "Paiement en cours" in client.get(f"/paiement/retour?commande={order.id}").get_data(as_text=True)

    deliver(client, fake_stripe, "payment_intent.succeeded", intent["id"])

    db.session.expire_all()
    assert order.status == "paid" and count(db, Appointment) == 1


def test_a_saved_card_the_bank_wants_confirmed_asks_the_student_to_authenticate(db, client, fake_stripe, student):
    [card] = with_customer(db, fake_stripe, student, "pm_card_authenticationRequired")

    response = pay(client, saved_card=card)

    [intent] = fake_stripe.intents.values()
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and intent["status"] == "requires_action"
    assert 'data-authenticate="1"' in page and intent["client_secret"] in page
    assert 'id="payment-element"' not in page and "Confirmer le paiement" in page
    payment = db.session.scalar(select(Payment))
    assert payment.status == "requires_action"

    deliver(client, fake_stripe, "payment_intent.succeeded", intent["id"])

    db.session.expire_all()
    assert payment.status == "succeeded" and count(db, Appointment) == 1


def test_saving_the_card_asks_stripe_to_keep_it_for_the_next_purchases(db, client, fake_stripe, student):
    response = pay(client, save_card=True)

    assert response.status_code == 200
    [sent] = fake_stripe.sent("POST", "/v1/payment_intents")
    assert sent.params["setup_future_usage"] == "off_session"


def test_a_declined_saved_card_shows_the_french_message_and_keeps_the_cart(db, client, fake_stripe, student):
    declining, visa = with_customer(db, fake_stripe, student, "pm_card_chargeDeclined", "pm_card_visa")

    response = pay(client, saved_card=declining)

    assert response.status_code == 400
    assert "Votre carte a été refusée." in response.get_data(as_text=True)
    assert db.session.scalar(select(Order).where(Order.status == "paid")) is None
    assert count(db, Payment) == count(db, Appointment) == 0
    assert count(db, CartItem) == count(db, Hold) == 1

    again = pay(client, saved_card=visa)

    assert again.status_code == 302, again.get_data(as_text=True)
    paid = [i for i in fake_stripe.intents.values() if i["status"] == "succeeded"]
    assert [i["payment_method"] for i in paid] == [visa]
    assert db.session.scalar(select(Payment.gateway_payment_id)) == paid[0]["id"]


def test_a_guest_pays_with_stripe_as_the_new_account_customer(db, client, fake_stripe, offer):
    add_to_cart(client, offer)
    page = client.get("/checkout").get_data(as_text=True)
    assert "Sauvegarder cette carte" not in page

    password = "un-mot-de-passe"
    response = pay(client, email="nouveau@example.com", password=password, password_confirm=password)

    assert response.status_code == 200
    guest = db.session.scalar(select(User).where(User.email == "nouveau@example.com"))
    [customer] = fake_stripe.customers.values()
    assert (customer["email"], customer["name"]) == ("nouveau@example.com", "Léa Gagnon")
    assert guest.stripe_customer_id == customer["id"]
    [intent] = fake_stripe.intents.values()
    assert client_secret(response) == intent["client_secret"] and intent["customer"] == customer["id"]
    assert fake_stripe.sent("GET", "/v1/payment_methods") == []

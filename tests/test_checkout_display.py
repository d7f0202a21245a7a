"""Around the purchase: the credit shown before payment, the form kept after a declined card, the 0 $ wording."""

import re
from html import unescape

import pytest
from sqlalchemy import select

from tutoradmin import credits
from tutoradmin.formatting import money
from tutoradmin.models import CreditKind, Order, utcnow

from .shopping import BILLING, billing_form, count

RESERVED = "réservés par une commande en attente"


def add(client, offer, hour=9, duration=60):
    body = {"cours": offer.course.slug, "creneaux": [{"debut": offer.at(hour).isoformat(), "duree": duration}]}
    response = client.post("/panier/ajouter", json=body, headers={"Accept": "application/json"})
    assert response.status_code == 200, response.get_data(as_text=True)


def shown(html, element_id):
    """The text of the element with this id, tags removed, or None when the page has none."""
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</(dd|span)>', html, re.S)
    if found is None:
        return None
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def flashes(client):
    with client.session_transaction() as session:
        return [str(message) for _, message in session.pop("_flashes", [])]


def with_credit(student, cents):
    credits.add_entry(student.id, CreditKind.CREDIT, cents, "Séance annulée", utcnow())


def reserving(make, student, cents):
    """A pending order of the student, from another cart, that reserves `cents` of credit."""
    order = make.order(user=student, status="pending", card=False)
    order.paid_at = None
    order.credit_cents, order.total_cents = cents, order.total_cents - cents
    for item in order.items:
        item.credit_cents = cents
    return order


def normalized(text):
    return " ".join(text.replace("\xa0", " ").split())


# The credit before payment


def test_the_cart_and_checkout_show_the_credit_that_the_order_then_applies(client, db, make, offer, login_as):
    student = login_as("student")
    with_credit(student, 2000)
    reserving(make, student, 500)
    db.session.commit()
    add(client, offer)  # 45,00 $

    cart = client.get("/panier").get_data(as_text=True)
    checkout = client.get("/checkout").get_data(as_text=True)
    for page, card_id in ((cart, "cart-card-total"), (checkout, "checkout-total")):
        assert normalized(shown(page, "credit-available")).startswith("15,00 $")
        assert normalized(shown(page, "credit-reserved")) == f"5,00 $ {RESERVED}"
        assert normalized(shown(page, "credit-applied")) == "−15,00 $"
        assert normalized(shown(page, card_id)) == "30,00 $"
        assert "Crédit appliqué" in page
    assert "Reste à payer par carte" in cart and "Reste à payer par carte" in checkout

    response = client.post("/checkout", data=billing_form(email=student.email, password=None))

    assert response.status_code == 302
    order = db.session.scalars(select(Order).where(Order.cart_id.is_not(None))).one()
    assert shown(checkout, "credit-applied") == normalized(f"−{money(order.credit_cents)}")
    assert shown(cart, "cart-card-total") == normalized(money(order.total_cents)) == shown(checkout, "checkout-total")
    assert (order.credit_cents, order.total_cents) == (1500, 3000)


def test_credit_above_the_total_applies_only_the_total_and_nothing_is_left_for_the_card(client, db, offer, login_as):
    student = login_as("student")
    with_credit(student, 10000)
    db.session.commit()
    add(client, offer)

    for path, card_id in (("/panier", "cart-card-total"), ("/checkout", "checkout-total")):
        page = client.get(path).get_data(as_text=True)
        assert normalized(shown(page, "credit-available")) == "100,00 $"
        assert shown(page, "credit-reserved") is None and RESERVED not in page
        assert normalized(shown(page, "credit-applied")) == "−45,00 $"
        assert normalized(shown(page, card_id)) == "0,00 $"
    assert "Confirmer la réservation" in client.get("/checkout").get_data(as_text=True)


@pytest.mark.parametrize("who", ["guest", "student without credit"])
def test_no_credit_lines_without_credit(client, db, offer, login_as, who):
    if who != "guest":
        login_as("student")
    add(client, offer)

    for path in ("/panier", "/checkout"):
        page = client.get(path).get_data(as_text=True)
        assert "Crédit disponible" not in page and "Crédit appliqué" not in page
        assert shown(page, "credit-applied") is None and shown(page, "cart-card-total") is None
    assert normalized(shown(client.get("/checkout").get_data(as_text=True), "checkout-total")) == "45,00 $"


# A declined card keeps the form


def field_value(html, name):
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert tag, name
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return unescape(value.group(1)) if value else ""


def selected_province(html):
    select_tag = re.search(r'<select[^>]*name="province".*?</select>', html, re.S).group(0)
    return re.search(r'<option selected value="([^"]+)"|<option value="([^"]+)" selected', select_tag).group(1, 2)


def test_a_declined_card_brings_a_guest_back_to_the_form_as_typed_but_the_passwords(client, db, offer):
    add(client, offer)
    typed = {"address": "4500, boul. Saint-Laurent, app. 3", "city": "Gatineau", "province": "ON"}
    response = client.post("/checkout", data=billing_form(email="Invite@Example.com", **typed))
    card = response.headers["Location"]
    flashes(client)

    assert client.post(card, data={"outcome": "decline"}).headers["Location"].endswith("/checkout")
    page = client.get("/checkout").get_data(as_text=True)

    expected = {**BILLING, **typed, "email": "invite@example.com"}
    for name in ("first_name", "last_name", "email", "phone", "address", "city", "postal_code"):
        assert field_value(page, name) == expected[name], name
    assert "ON" in selected_province(page)
    assert field_value(page, "password") == "" and field_value(page, "password_confirm") == ""
    assert "nouveau-mot-de-passe" not in page


def test_a_declined_card_keeps_what_a_student_typed_rather_than_the_profile(client, db, offer, login_as):
    student = login_as("student", first_name="Profil", phone="418 555-0000")
    add(client, offer)
    response = client.post(
        "/checkout", data=billing_form(email=student.email, password=None, first_name="Facturé", phone="819 555-1234")
    )
    client.post(response.headers["Location"], data={"outcome": "decline"})

    page = client.get("/checkout").get_data(as_text=True)

    assert (field_value(page, "first_name"), field_value(page, "phone")) == ("Facturé", "819 555-1234")
    assert field_value(page, "address") == BILLING["address"]


def test_a_first_visit_to_checkout_is_filled_from_the_profile_only(client, db, offer, login_as):
    student = login_as("student", first_name="Profil")
    add(client, offer)
    page = client.get("/checkout").get_data(as_text=True)
    assert field_value(page, "first_name") == "Profil" and field_value(page, "email") == student.email
    assert field_value(page, "address") == ""


def test_another_visitor_never_sees_a_guests_billing_details(app, client, db, offer):
    add(client, offer)
    response = client.post("/checkout", data=billing_form(email="secret@example.com"))
    client.post(response.headers["Location"], data={"outcome": "decline"})

    other = app.test_client()
    add(other, offer, hour=13)
    page = other.get("/checkout").get_data(as_text=True)
    idx = page.find("secret@example.com")
    assert idx == -1, page[idx - 300 : idx + 100]
    assert field_value(page, "address") == ""


# The 0 $ confirmation


def confirmation(client, response):
    back = response.headers["Location"]
    assert client.get(back).headers["Location"].endswith("/tableau-de-bord")
    [message] = flashes(client)
    return message


def test_a_booking_paid_by_credit_says_reservation_confirmee(client, db, offer, login_as):
    student = login_as("student")
    with_credit(student, 4500)
    db.session.commit()
    add(client, offer)
    flashes(client)

    message = confirmation(client, client.post("/checkout", data=billing_form(email=student.email, password=None)))

    assert message.startswith("Réservation confirmée. Vos séances sont réservées")
    assert "Paiement" not in message
    assert db.session.scalars(select(Order.total_cents)).one() == 0


def test_a_booking_covered_by_a_coupon_says_reservation_confirmee(client, db, make, offer):
    make.coupon(code="OFFERTE", kind="fixed", value=10000)
    db.session.commit()
    add(client, offer)
    assert client.post("/panier/coupon", data={"code": "offerte"}).status_code == 302
    flashes(client)

    message = confirmation(client, client.post("/checkout", data=billing_form(email="gratuit@example.com")))

    assert message.startswith("Réservation confirmée.")
    assert count(db, Order, Order.total_cents == 0, Order.status == "paid") == 1


def test_a_booking_paid_by_card_still_says_paiement_confirme(client, db, offer, login_as):
    student = login_as("student")
    with_credit(student, 1000)
    db.session.commit()
    add(client, offer)
    card = client.post("/checkout", data=billing_form(email=student.email, password=None)).headers["Location"]
    flashes(client)

    message = confirmation(client, client.post(card, data={"outcome": "success"}))

    assert message.startswith("Paiement confirmé. Vos séances sont réservées")

"""Checkout over HTTP with the simulated gateway: pages, redirects, French messages, nothing written on refusal."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tutoradmin import accounts, credits
from tutoradmin.models import (
    Appointment,
    Cart,
    CartItem,
    CreditKind,
    GatewayEvent,
    Hold,
    Order,
    Payment,
    User,
    utcnow,
)

from .factories import DEFAULT_PASSWORD
from .shopping import PASSWORD, billing_form, count, fill, make_offer, new_cart

EMPTY_CART = "Votre panier est vide ou vos réservations ont expiré."
EMAIL_TAKEN = "Un compte existe déjà avec cette adresse email. Veuillez vous connecter avec votre compte existant."
DECLINED = "Votre carte a été refusée."


@pytest.fixture
def offer(db, make):
    return make_offer(db, make, utcnow())


def location(response):
    """The path and query a redirect points to."""
    assert response.status_code == 302, response.get_data(as_text=True)
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def flashes(client):
    """The messages flashed since the last call (taken out of the session, as a page would)."""
    with client.session_transaction() as session:
        return [str(message) for _, message in session.pop("_flashes", [])]


def logged_in_id(client):
    """The id (as text) of the account the client's session names, or None."""
    with client.session_transaction() as session:
        token = session.get("_user_id")
    user = accounts.user_for_session(token)
    return None if user is None else str(user.id)


def add(client, offer, hour=9, duration=60):
    body = {"cours": offer.course.slug, "creneaux": [{"debut": offer.at(hour).isoformat(), "duree": duration}]}
    response = client.post("/panier/ajouter", json=body, headers={"Accept": "application/json"})
    assert response.status_code == 200, response.get_data(as_text=True)


def checkout(client, **fields):
    return client.post("/checkout", data=billing_form(**fields))


def card_page(client, **fields):
    """Start checkout and return the simulated card page's path."""
    path = location(checkout(client, **fields))
    assert path.startswith("/paiement/simule/pi_sim_"), path
    return path


def written(db):
    return count(db, Order), count(db, Payment), count(db, User, User.role == "student")


# Empty or expired cart


def test_an_empty_cart_sends_the_visitor_back_to_the_cart_page(client, db):
    for send in (client.get, lambda path: client.post(path, data=billing_form())):
        assert location(send("/checkout")) == "/panier"
        assert flashes(client) == [EMPTY_CART]
    assert written(db) == (0, 0, 0)


def test_a_cart_whose_holds_expired_cannot_be_checked_out(client, db, offer):
    cart = new_cart(db, session_key="panier-expire")
    fill(cart, offer, 9, now=utcnow() - timedelta(minutes=20))
    db.session.commit()
    with client.session_transaction() as session:
        session["cart_key"] = "panier-expire"

    assert location(checkout(client)) == "/panier"
    assert flashes(client) == [EMPTY_CART]
    assert written(db) == (0, 0, 0) and count(db, CartItem) == 1


# Guests


def test_a_guest_books_pays_and_lands_on_the_dashboard_logged_in(client, db, offer):
    add(client, offer, 9)
    add(client, offer, 13, duration=90)
    card = card_page(client, email="Nouvelle@Example.com")

    user = db.session.scalars(select(User).where(User.role == "student")).one()
    order = db.session.scalars(select(Order)).one()
    payment = db.session.scalars(select(Payment)).one()
    assert (user.email, user.first_name) == ("nouvelle@example.com", "Camille") and user.check_password(PASSWORD)
    assert (order.user_id, order.status, order.total_cents, payment.amount_cents) == (user.id, "pending", 11250, 11250)
    assert card == f"/paiement/simule/{payment.gateway_payment_id}"
    assert logged_in_id(client) is None  # not signed in before the money arrives
    page = client.get(card)
    assert page.status_code == 200 and "112,50" in page.get_data(as_text=True)

    back = location(client.post(card, data={"outcome": "success"}))
    assert back == f"/paiement/retour?commande={order.id}"
    db.session.expire_all()
    assert (order.status, payment.status) == ("paid", "succeeded")
    assert db.session.scalars(select(GatewayEvent.event_type)).all() == ["payment_intent.succeeded"]

    assert location(client.get(back)) == "/tableau-de-bord"
    assert logged_in_id(client) == str(user.id)
    [confirmation] = flashes(client)
    assert confirmation.startswith("Paiement confirmé. Vos séances sont réservées")
    dashboard = client.get("/tableau-de-bord")
    html = dashboard.get_data(as_text=True)
    assert dashboard.status_code == 200 and html.count('class="reservation"') == 2
    appointments = db.session.scalars(select(Appointment).order_by(Appointment.starts_at)).all()
    assert [(a.student_id, a.starts_at) for a in appointments] == [(user.id, offer.at(9)), (user.id, offer.at(13))]
    assert all(f'data-appointment="{a.id}"' in html for a in appointments)
    assert offer.course.title in html
    # The confirmation is shown once; the page cannot sign anyone in again.
    assert client.get(back).status_code == 404


@pytest.mark.parametrize("typed", ["deja@example.com", "DEJA@EXAMPLE.COM", "Deja@Example.com"])
def test_a_guest_using_the_email_of_an_account_is_asked_to_log_in(client, db, make, offer, typed):
    make.user(email="deja@example.com")
    db.session.commit()
    add(client, offer)

    response = checkout(client, email=typed)

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert EMAIL_TAKEN in " ".join(html.replace("\n", " ").split())
    assert 'href="/connexion?next=/checkout">Se connecter</a>' in html.replace("%2F", "/")
    assert written(db) == (0, 0, 1) and count(db, User, User.email == "deja@example.com") == 1
    assert logged_in_id(client) is None
    assert count(db, CartItem) == count(db, Hold) == 1


def test_logging_in_from_checkout_comes_back_to_it_with_the_cart_kept(client, db, make, offer):
    student = make.user(email="deja@example.com")
    db.session.commit()
    add(client, offer, 9)
    assert checkout(client, email="deja@example.com").status_code == 400
    hold_id = db.session.scalars(select(CartItem.hold_id)).one()

    response = client.post(
        "/connexion", data={"email": "DEJA@example.com", "password": DEFAULT_PASSWORD, "next": "/checkout"}
    )

    assert location(response) == "/checkout"
    page = client.get("/checkout")
    assert page.status_code == 200 and offer.course.title in page.get_data(as_text=True)
    cart = db.session.scalars(select(Cart)).one()
    assert cart.user_id == student.id and [(i.hold_id, i.starts_at) for i in cart.items] == [(hold_id, offer.at(9))]
    # Logged in, no password is asked for; the order is the existing account's.
    card_page(client, email=student.email, password=None)
    assert db.session.scalars(select(Order.user_id)).all() == [student.id]
    assert count(db, User, User.role == "student") == 1


# Declines and retries


def test_a_declined_card_keeps_the_order_pending_and_the_cart_for_a_retry(client, db, offer, login_as):
    student = login_as("student")
    add(client, offer)
    card = card_page(client, email=student.email, password=None)
    flashes(client)

    assert location(client.post(card, data={"outcome": "decline"})) == "/checkout"
    assert flashes(client) == [DECLINED]
    order, payment = db.session.scalars(select(Order)).one(), db.session.scalars(select(Payment)).one()
    assert (order.status, payment.status, payment.failure_message) == ("pending", "failed", DECLINED)
    assert count(db, CartItem) == count(db, Hold) == 1 and count(db, Appointment) == 0
    assert client.get("/checkout").status_code == 200

    assert card_page(client, email=student.email, password=None) == card
    location(client.post(card, data={"outcome": "success"}))
    db.session.expire_all()
    assert (count(db, Order), count(db, Payment)) == (1, 1)
    assert (order.status, payment.status) == ("paid", "succeeded")
    assert db.session.scalars(select(Appointment.student_id)).all() == [student.id]


def test_a_card_asking_for_authentication_can_be_refused_then_approved(client, db, offer, login_as):
    student = login_as("student")
    add(client, offer)
    card = card_page(client, email=student.email, password=None)
    flashes(client)

    challenge = client.post(card, data={"outcome": "authenticate"})
    assert challenge.status_code == 200 and "Authentification 3-D Secure" in challenge.get_data(as_text=True)
    assert count(db, GatewayEvent) == 0
    assert location(client.post(card, data={"outcome": "auth_refused"})) == "/checkout"
    assert flashes(client) == ["L'authentification a été refusée. " + DECLINED]
    assert db.session.scalars(select(Order.status)).one() == "pending"

    location(client.post(card, data={"outcome": "success"}))
    db.session.expire_all()
    assert db.session.scalars(select(Order.status)).one() == "paid" and count(db, Appointment) == 1


def test_an_unknown_outcome_is_refused_without_an_event(client, db, offer, login_as):
    student = login_as("student")
    add(client, offer)
    card = card_page(client, email=student.email, password=None)
    assert client.post(card, data={"outcome": "rembourser"}).status_code == 400
    assert count(db, GatewayEvent) == 0 and db.session.scalars(select(Order.status)).one() == "pending"


# Amounts


def test_the_amount_comes_from_the_cart_not_from_the_browser(client, db, offer, login_as):
    student = login_as("student")
    add(client, offer, duration=120)
    card_page(client, email=student.email, password=None, total_cents="1", amount="1", credit_cents="9000")
    assert db.session.scalars(select(Payment.amount_cents)).one() == 9000


def test_credit_covering_everything_skips_the_card_page(client, db, offer, login_as):
    student = login_as("student")
    credits.add_entry(student.id, CreditKind.CREDIT, 5000, "Remboursement", utcnow())
    db.session.commit()
    add(client, offer)

    back = location(checkout(client, email=student.email, password=None))
    order = db.session.scalars(select(Order)).one()
    assert back == f"/paiement/retour?commande={order.id}"
    assert (order.status, order.credit_cents, order.total_cents) == ("paid", 4500, 0) and count(db, Payment) == 0
    assert location(client.get(back)) == "/tableau-de-bord"
    assert credits.balance_cents(student.id) == 500


# Bad input


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"first_name": ""}, "Ce champ est obligatoire."),
        ({"last_name": "   "}, "Ce champ est obligatoire."),
        ({"email": "pas-une-adresse"}, "Adresse courriel invalide."),
        ({"email": ""}, "Ce champ est obligatoire."),
        ({"password": "court", "password_confirm": "court"}, "Le mot de passe doit contenir au moins 8 caractères."),
        ({"password_confirm": "autre-mot-de-passe"}, "Les mots de passe ne correspondent pas."),
        ({"password": None, "password_confirm": None}, "Choisissez un mot de passe pour votre compte."),
    ],
)
def test_bad_billing_input_is_refused_in_french_and_nothing_is_written(client, db, offer, fields, message):
    add(client, offer)

    response = checkout(client, **fields)

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message.replace("'", "&#39;") in html or message in html
    assert written(db) == (0, 0, 0) and count(db, GatewayEvent) == 0
    assert count(db, CartItem) == count(db, Hold) == 1


# Someone else's payment


def test_another_browser_cannot_open_or_answer_someone_elses_payment(app, client, db, offer):
    add(client, offer)
    card = card_page(client)
    order = db.session.scalars(select(Order)).one()
    back = f"/paiement/retour?commande={order.id}"
    stranger = app.test_client()
    add(stranger, offer, 13)  # a checkout of their own does not open ours
    location(stranger.post("/checkout", data=billing_form(email="autre@example.com")))

    assert stranger.get(card).status_code == 404
    assert stranger.post(card, data={"outcome": "success"}).status_code == 404
    assert stranger.get(back).status_code == 404
    assert client.get("/paiement/simule/pi_sim_inconnu").status_code == 404
    assert client.get("/paiement/retour?commande=abc").status_code == 404
    db.session.expire_all()
    assert order.status == "pending" and count(db, GatewayEvent) == 0
    assert logged_in_id(stranger) is None


def test_logging_out_forgets_the_checkout_so_the_next_visitor_cannot_sign_in_with_it(client, db, offer, login_as):
    student = login_as("student")
    add(client, offer)
    card = card_page(client, email=student.email, password=None)
    client.post(card, data={"outcome": "success"})  # paid, but the return page is never opened
    order = db.session.scalars(select(Order)).one()

    client.post("/deconnexion")

    assert logged_in_id(client) is None
    assert client.get(f"/paiement/retour?commande={order.id}").status_code == 404
    assert logged_in_id(client) is None


def test_someone_else_logged_in_on_the_browser_cannot_see_a_guest_confirmation(client, db, make, offer, login):
    add(client, offer)
    card = card_page(client, email="invite@example.com")
    client.post(card, data={"outcome": "success"})
    order = db.session.scalars(select(Order)).one()
    other = make.user(email="autre@example.com")
    db.session.commit()
    login(other)
    flashes(client)

    assert client.get(f"/paiement/retour?commande={order.id}").status_code == 404
    assert logged_in_id(client) == str(other.id) and flashes(client) == []

"""In Chromium: a guest books on the booking page, checks out and pays on the simulated card page."""

import re
from datetime import datetime, time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tutoradmin.formatting import local_datetime
from tutoradmin.models import Appointment, AppointmentStatus, Order, OrderStatus, User

from .booking_page import open_day_offering, slot

pytestmark = [pytest.mark.browser, pytest.mark.app_config(WTF_CSRF_ENABLED=True)]

TITLE = "Physique – Secondaire 4"
EMAIL = "julie.tremblay@example.com"
PASSWORD = "motdepasse-solide"
DECLINED = "Votre carte a été refusée."
FRENCH_DATE = re.compile(
    r"^\d{1,2} (janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre) "
    r"\d{4} à \d\d\u00a0h\u00a0\d\d$"
)


@pytest.fixture
def course(make):
    return make.course(title=TITLE, rate_cents=5000)


@pytest.fixture(autouse=True)
def tutor(make, db, course):
    """One tutor of the 50 $/h course, free every day from 9:00 to 12:00."""
    tutor = make.tutor(courses=[course], display_name="Marc-André Gagnon")
    for weekday in range(7):
        make.weekly_rule(tutor, weekday=weekday, start=time(9), end=time(12))
    db.session.commit()
    return tutor


def book_in_cart(page, live_server, course, *hours):
    """Pick `hours` on the first day offering them all, continue to the cart; the sessions' start times."""
    page.goto(f"{live_server}/cours/{course.slug}/reservation")
    open_day_offering(page, *hours)
    starts = [datetime.fromisoformat(slot(page, h).get_attribute("data-start")) for h in hours]
    for h in hours:
        slot(page, h).click()
    plural = "s" if len(hours) > 1 else ""
    page.get_by_role("button", name=f"Continuer vers le panier ({len(hours)} séance{plural})").click()
    page.wait_for_url(live_server + "/panier")
    expect(page.locator(".cart-item")).to_have_count(len(hours))
    return starts


def to_checkout(page, live_server):
    page.goto(live_server + "/panier")
    page.get_by_role("link", name="Passer à la caisse").click()
    page.wait_for_url(live_server + "/checkout")


def fill_billing(page):
    page.get_by_label("Prénom").fill("Julie")
    page.get_by_label("Nom", exact=True).fill("Tremblay")
    page.get_by_label("Adresse courriel").fill(EMAIL)
    page.get_by_label("Téléphone").fill("514 555-0199")
    page.get_by_label("Adresse", exact=True).fill("1200, rue Saint-Denis")
    page.get_by_label("Ville").fill("Montréal")
    page.get_by_label("Code postal").fill("h2x 3j6")
    page.get_by_label("Province").select_option(label="Québec")
    page.get_by_label("Mot de passe du compte").fill(PASSWORD)
    page.get_by_label("Confirmer le mot de passe").fill(PASSWORD)


def pay(page, amount):
    """Submit the billing form and arrive on the test card page."""
    page.get_by_role("button", name=f"Payer {amount}").click()
    page.wait_for_url(re.compile(r"/paiement/simule/pi_sim_\w+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Paiement par carte (simulation)")
    expect(page.locator(".simulated-card")).to_contain_text(f"montant : {amount}")


def expect_declined(page, live_server, message):
    """Back on the checkout page with `message`, the sessions still held, and no one signed in."""
    page.wait_for_url(live_server + "/checkout")
    expect(page.locator(".flash-danger")).to_have_text(message)
    expect(page.get_by_role("link", name="Connexion")).to_be_visible()
    expect(page.locator(".checkout-items li")).to_have_count(1)
    page.get_by_role("link", name="Modifier le panier").click()
    page.wait_for_url(live_server + "/panier")
    expect(page.locator(".cart-item")).to_have_count(1)
    expect(page.locator(".cart-item")).to_contain_text(TITLE)
    expect(page.locator(".expired-items")).to_have_count(0)


def booked(db, email=EMAIL):
    """The account of `email`, its orders and its appointments, as the database has them now."""
    db.session.rollback()  # see what the server committed, not what this session cached
    user = User.find_by_email(email)
    if user is None:
        return None, [], []
    orders = db.session.scalars(select(Order).where(Order.user_id == user.id).order_by(Order.id)).all()
    appointments = db.session.scalars(
        select(Appointment).where(Appointment.student_id == user.id).order_by(Appointment.starts_at)
    ).all()
    return user, orders, appointments


def expect_dashboard(page, live_server, starts):
    """The dashboard confirms the payment and lists each session with its French date."""
    page.wait_for_url(live_server + "/tableau-de-bord")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Julie")
    expect(page.get_by_role("button", name="Déconnexion")).to_be_visible()
    confirmation = page.locator(".flash-success")
    expect(confirmation).to_contain_text("Paiement confirmé. Vos séances sont réservées :")
    sessions = page.locator("#upcoming .reservation")
    expect(sessions).to_have_count(len(starts))
    for row, start in enumerate(starts):
        when = local_datetime(start)
        assert FRENCH_DATE.match(when), when
        expect(confirmation).to_contain_text(f"{TITLE} — {when} (60 min)")
        expect(sessions.nth(row)).to_contain_text(TITLE)
        expect(sessions.nth(row)).to_contain_text(f"{when} · 60 min")
        expect(sessions.nth(row)).to_contain_text("Marc-André Gagnon")


def test_a_guest_books_two_sessions_pays_and_lands_on_the_dashboard(page, live_server, course, db):
    starts = book_in_cart(page, live_server, course, "09 h 00 – 10 h 00", "10 h 00 – 11 h 00")
    expect(page.locator("#cart-total")).to_have_text("100,00\xa0$")

    page.get_by_role("link", name="Passer à la caisse").click()
    page.wait_for_url(live_server + "/checkout")
    expect(page.get_by_role("heading", level=1)).to_have_text("Finaliser ma réservation")
    summary = page.locator(".checkout-items li")
    expect(summary).to_have_count(2)
    expect(summary.nth(0)).to_contain_text(f"{local_datetime(starts[0])} · 60 min")
    expect(summary.nth(0).locator(".price")).to_have_text("50,00\xa0$")
    expect(page.locator("#checkout-total")).to_have_text("100,00\xa0$")

    page.get_by_role("button", name="Payer 100,00\xa0$").click()  # nothing filled in
    expect(page.locator(".field.has-error")).to_have_count(6)
    expect(page.locator(".field.has-error .error").first).to_have_text("Ce champ est obligatoire.")
    assert booked(db)[0] is None, "no account before the form is valid"

    fill_billing(page)
    pay(page, "100,00\xa0$")
    page.get_by_role("button", name="Paiement accepté").click()
    expect_dashboard(page, live_server, starts)

    user, orders, appointments = booked(db)
    assert (user.role, user.first_name, user.last_name, user.phone) == ("student", "Julie", "Tremblay", "514 555-0199")
    assert user.check_password(PASSWORD)
    assert [(o.status, o.total_cents, o.paid_at is not None) for o in orders] == [(OrderStatus.PAID.value, 10000, True)]
    assert orders[0].billing_city == "Montréal" and orders[0].billing_postal_code == "H2X 3J6"
    assert [(a.starts_at, a.duration_minutes, a.course.title, a.status) for a in appointments] == [
        (start, 60, TITLE, AppointmentStatus.SCHEDULED.value) for start in starts
    ]

    page.get_by_role("link", name="Panier").click()
    expect(page.locator("main")).to_contain_text("Votre panier est vide.")


def test_a_declined_card_keeps_the_cart_and_a_retry_can_succeed(page, live_server, course, db):
    starts = book_in_cart(page, live_server, course, "09 h 00 – 10 h 00")
    to_checkout(page, live_server)
    fill_billing(page)
    pay(page, "50,00\xa0$")
    page.get_by_role("button", name="Carte refusée").click()

    expect_declined(page, live_server, DECLINED)
    _, orders, appointments = booked(db)
    assert [o.status for o in orders] == [OrderStatus.PENDING.value]
    assert appointments == []

    to_checkout(page, live_server)
    fill_billing(page)
    pay(page, "50,00\xa0$")
    page.get_by_role("button", name="Paiement accepté").click()
    expect_dashboard(page, live_server, starts)

    _, orders, appointments = booked(db)
    assert [o.status for o in orders] == [OrderStatus.PAID.value]
    assert [a.starts_at for a in appointments] == starts
    assert len(db.session.scalars(select(User).where(User.email == EMAIL)).all()) == 1


def test_authentication_refused_says_so_and_approved_books(page, live_server, course, db):
    starts = book_in_cart(page, live_server, course, "11 h 00 – 12 h 00")
    to_checkout(page, live_server)
    fill_billing(page)
    pay(page, "50,00\xa0$")
    page.get_by_role("button", name="Authentification requise").click()
    expect(page.get_by_role("heading", name="Authentification 3-D Secure")).to_be_visible()
    expect(page.locator(".simulated-card")).to_contain_text("Votre banque demande de confirmer ce paiement.")
    page.get_by_role("button", name="Refuser").click()

    expect_declined(page, live_server, f"L'authentification a été refusée. {DECLINED}")
    assert booked(db)[2] == []

    to_checkout(page, live_server)
    fill_billing(page)
    pay(page, "50,00\xa0$")
    page.get_by_role("button", name="Authentification requise").click()
    page.get_by_role("button", name="Approuver").click()
    expect_dashboard(page, live_server, starts)

    _, orders, appointments = booked(db)
    assert [o.status for o in orders] == [OrderStatus.PAID.value]
    assert [a.starts_at for a in appointments] == starts

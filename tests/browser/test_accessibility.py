"""In Chromium: the booking page and the student's pages have no serious or critical axe-core violation."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tutoradmin import credits, messaging, support
from tutoradmin.models import CreditKind, MeetingLink

from ..factories import DEFAULT_PASSWORD
from ..shopping import make_offer
from .booking_page import wait_for_calendar

pytestmark = [pytest.mark.browser, pytest.mark.app_config(WTF_CSRF_ENABLED=True)]

BLOCKING_IMPACTS = {"serious", "critical"}

# (endpoint, path template): the student's pages, filled with the ids of the student's own rows.
PAGES = [
    ("public.booking", "/cours/{slug}/reservation"),
    ("public.dashboard", "/tableau-de-bord"),
    ("public.student_session", "/tableau-de-bord/seances/{appointment}"),
    ("public.student_orders", "/tableau-de-bord/commandes"),
    ("public.student_order", "/tableau-de-bord/commandes/{order}"),
    ("public.student_receipt", "/tableau-de-bord/commandes/{order}/recu"),
    ("public.student_credits", "/tableau-de-bord/credits"),
    ("public.student_profile", "/tableau-de-bord/profil"),
    ("public.change_password", "/tableau-de-bord/mot-de-passe"),
    ("public.tickets", "/tableau-de-bord/billets"),
    ("public.new_ticket", "/tableau-de-bord/billets/nouveau"),
    ("public.ticket", "/tableau-de-bord/billets/{ticket}"),
    ("public.session_messages", "/tableau-de-bord/seances/{appointment}/messages"),
]


def _blocking(results):
    """The serious and critical violations, one line each: rule, impact, and the first offending elements."""
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]}"
        for v in results.response["violations"]
        if v.get("impact") in BLOCKING_IMPACTS
    ]


@pytest.fixture
def student_world(db, make, now):
    """A student with a booked order, a meeting link, credit history, a calendar feed address, a ticket answered
    by the office and a conversation with the tutor."""
    offer = make_offer(db, make, now)
    student = make.user(first_name="Camille", last_name="Roy")
    order = make.booked_order(items=2, user=student, course=offer.course, tutor=offer.tutors[0], credit_cents=500)
    appointment = order.items[0].appointment
    db.session.add(MeetingLink(appointment=appointment, provider="zoom", url="https://zoom.us/j/123"))
    credits.add_entry(student.id, CreditKind.CREDIT, 1500, "Séance annulée", now)
    credits.add_entry(student.id, CreditKind.DEBIT, 500, f"Utilisé pour la commande #{order.id}", now)
    student.calendar_token = "jeton-de-calendrier-pour-les-tests-d-accessibilite"
    staff = make.user(role="staff")
    ticket = support.open_ticket(student, "paiement", "Reçu introuvable", "Où est mon reçu ?", now, order=order)
    support.reply(ticket, staff, "Dans « Mes commandes et reçus ».", False, now)
    messaging.send(appointment, student, "Bonjour, voici mes exercices : https://exemple.ca/devoir", now)
    messaging.send(appointment, appointment.tutor.user, "Merci, à bientôt !", now)
    db.session.commit()
    return {
        "student": student,
        "slug": offer.course.slug,
        "appointment": appointment.id,
        "order": order.id,
        "ticket": ticket.id,
    }


@pytest.mark.parametrize(("endpoint", "path"), PAGES, ids=[endpoint for endpoint, _ in PAGES])
def test_page_has_no_serious_or_critical_accessibility_violation(app, page, live_server, student_world, endpoint, path):
    if endpoint not in app.view_functions:
        pytest.skip(f"{endpoint} does not exist yet")
    page.goto(live_server + "/connexion")
    page.fill("input[name=email]", student_world["student"].email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server + "/tableau-de-bord")

    response = page.goto(live_server + path.format(**student_world))
    assert response.status == 200
    if endpoint == "public.booking":
        wait_for_calendar(page)
        expect(page.locator("#slots")).not_to_have_attribute("aria-busy", "true")
    if endpoint == "public.dashboard":
        # The help on subscribing is part of the page once opened.
        summary = page.locator(".feed-help summary")
        if summary.count():
            summary.click()

    results = Axe().run(page)
    assert _blocking(results) == []

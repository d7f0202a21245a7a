"""In Chromium: a student cancels a session for a credit, and moves another through the calendar."""

import re
from datetime import timedelta

import pytest

from tutoradmin.localtime import to_local
from tutoradmin.models import Appointment, AppointmentStatus

from ..factories import DEFAULT_PASSWORD
from ..shopping import make_offer

pytestmark = [pytest.mark.browser, pytest.mark.app_config(WTF_CSRF_ENABLED=True)]


@pytest.fixture
def booked(db, make, now):
    """A student with two sessions next week, bought with a 10 $ coupon; signed in."""
    offer = make_offer(db, make, now)
    order = make.booked_order(
        items=2, course=offer.course, tutor=offer.tutors[0], first_start=offer.at(10), discount_cents=1000
    )
    db.session.commit()
    return offer, order


def _text(locator):
    return locator.inner_text().replace("\xa0", " ")


def _sign_in(page, live_server, user):
    page.goto(live_server + "/connexion")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server + "/tableau-de-bord")


def test_a_student_cancels_a_session_and_sees_the_credit(page, live_server, db, booked):
    _offer, order = booked
    appointment_id = order.items[0].appointment.id
    _sign_in(page, live_server, order.user)

    page.click(f"li[data-appointment='{appointment_id}'] a")
    assert "Annulable jusqu'au" in page.locator(".session-actions").inner_text()
    page.click("#cancel-session")

    assert "un crédit de 40,00 $ a été ajouté" in _text(page.locator(".flash"))
    page.goto(live_server + "/tableau-de-bord")
    assert _text(page.locator("#credit-balance")) == "40,00 $"
    row = _text(page.locator(f"li[data-appointment='{appointment_id}']"))
    assert "Annulée" in row and "Crédit de 40,00 $" in row
    db.session.expire_all()
    assert db.session.get(Appointment, appointment_id).status == AppointmentStatus.CANCELLED


def test_a_student_moves_a_session_through_the_calendar(page, live_server, db, booked):
    offer, order = booked
    appointment_id = order.items[0].appointment.id
    new_day = offer.day + timedelta(days=2)
    target = offer.at(15, days=2)
    _sign_in(page, live_server, order.user)

    page.goto(f"{live_server}/tableau-de-bord/seances/{appointment_id}")
    page.click("text=Déplacer la séance")
    if not page.locator(f"a.day[data-date='{new_day.isoformat()}']").count():
        page.click("a.month-next")
    page.click(f"a.day[data-date='{new_day.isoformat()}']")
    page.click(f"a.slot[data-start='{target.isoformat()}']")
    assert "Confirmer" in page.locator("#confirm").inner_text()
    page.click("#confirm-move")

    assert "Séance déplacée" in _text(page.locator(".flash"))
    history = _text(page.locator("#history"))
    assert re.search(r"Déplacée par vous du .* à 10 h 00 au .* à 15 h 00", history), history
    db.session.expire_all()
    assert to_local(db.session.get(Appointment, appointment_id).starts_at) == to_local(target)

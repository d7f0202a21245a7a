"""In Chromium: choosing several slots on the booking page, the cart, server errors, and the page without JavaScript."""

import re
from datetime import date, datetime, time

import pytest
from playwright.sync_api import expect

from tutoradmin.formatting import long_date

from .booking_page import open_day_offering, slot, wait_for_calendar

pytestmark = [pytest.mark.browser, pytest.mark.app_config(WTF_CSRF_ENABLED=True)]

SLOTS_API = re.compile(r"/api/cours/[^/]+/creneaux\?")


@pytest.fixture
def course(make):
    return make.course(title="Chimie – Secondaire 5", rate_cents=4500)


@pytest.fixture(autouse=True)
def tutors(make, db, course):
    """Two tutors of the 45 $/h course, each free every day from 9:00 to 12:00."""
    tutors = [make.tutor(courses=[course], priority=priority) for priority in (1, 2)]
    for tutor in tutors:
        for weekday in range(7):
            make.weekly_rule(tutor, weekday=weekday, start=time(9), end=time(12))
    db.session.commit()
    return tutors


def booking_url(live_server, course):
    return f"{live_server}/cours/{course.slug}/reservation"


def is_reddish(css_color):
    red, green, blue = (int(n) for n in re.findall(r"\d+", css_color)[:3])
    return red > 150 and red > green + 60 and red > blue + 60


def test_two_sessions_chosen_together_go_to_the_cart_in_one_step(page, live_server, course):
    page.goto(live_server + "/cours")
    page.get_by_role("link", name=course.title).click()
    page.get_by_role("link", name="Réserver une séance").click()
    page.wait_for_url(re.compile(r"/reservation"))
    page.evaluate("window.stillTheSamePage = true")

    page.locator('.duration[data-duration="90"]').click()
    expect(page.locator('.duration[data-duration="90"]')).to_have_attribute("aria-current", "true")
    day = open_day_offering(page, "09 h 00 – 10 h 30")
    slot(page, "09 h 00 – 10 h 30").click()
    slot(page, "10 h 30 – 12 h 00").click()

    for chosen in ("09 h 00 – 10 h 30", "10 h 30 – 12 h 00"):
        expect(slot(page, chosen)).to_have_attribute("aria-pressed", "true")
        expect(slot(page, chosen)).to_contain_text("Sélectionné")
    for overlapping in ("09 h 30 – 11 h 00", "10 h 00 – 11 h 30"):
        button = slot(page, overlapping)
        expect(button).to_be_disabled()
        assert button.evaluate("b => b.disabled"), "an overlapping slot must be a disabled button"
        expect(button).to_have_attribute("aria-pressed", "false")
        expect(button).not_to_contain_text("Sélectionné")
        colours = button.evaluate(
            "b => { const s = getComputedStyle(b); return [s.color, s.backgroundColor, s.borderTopColor]; }"
        )
        assert not any(is_reddish(c) for c in colours), colours
    expect(page.locator("#booking")).not_to_contain_text(re.compile("conflit", re.IGNORECASE))
    expect(page.locator(".help")).to_have_text(
        "Les créneaux qui se chevauchent ne peuvent pas être sélectionnés simultanément."
    )

    lines = page.locator("#selection-list li")
    expect(lines).to_have_count(2)
    expect(lines.nth(0)).to_contain_text(long_date(day))
    expect(lines.nth(0)).to_contain_text("09 h 00 – 10 h 30")
    expect(lines.nth(0)).to_contain_text("67,50\xa0$")
    expect(lines.nth(1)).to_contain_text("10 h 30 – 12 h 00")
    expect(page.locator("#selection-total")).to_have_text("135,00\xa0$")
    assert page.evaluate("window.stillTheSamePage") is True
    assert "duree=90" in page.url

    page.get_by_role("button", name="Continuer vers le panier (2 séances)").click()
    page.wait_for_url(live_server + "/panier")
    items = page.locator(".cart-item")
    expect(items).to_have_count(2)
    expect(page.locator("#cart-total")).to_have_text("135,00\xa0$")

    items.first.get_by_role("button", name="Retirer").click()
    expect(items).to_have_count(1)
    expect(page.locator("#cart-total")).to_have_text("67,50\xa0$")


def test_a_selection_kept_across_durations_blocks_what_overlaps_it(page, live_server, course):
    page.goto(booking_url(live_server, course))
    open_day_offering(page, "09 h 00 – 10 h 00")
    slot(page, "09 h 00 – 10 h 00").click()
    expect(page.get_by_role("button", name="Continuer vers le panier (1 séance)")).to_be_visible()

    page.locator('.duration[data-duration="120"]').click()
    expect(slot(page, "10 h 00 – 12 h 00")).to_be_enabled()
    expect(slot(page, "09 h 00 – 11 h 00")).to_be_disabled()
    expect(slot(page, "09 h 30 – 11 h 30")).to_be_disabled()
    expect(page.locator("#selection-list li")).to_have_count(1)

    slot(page, "10 h 00 – 12 h 00").click()
    expect(page.locator("#selection-total")).to_have_text("135,00\xa0$")  # 45 $ + 90 $

    page.locator("#selection-list li").first.get_by_role("button", name=re.compile("^Retirer")).click()
    expect(page.locator("#selection-list li")).to_have_count(1)
    expect(slot(page, "09 h 00 – 11 h 00")).to_be_disabled()  # still overlaps 10:00–12:00
    slot(page, "10 h 00 – 12 h 00").click()  # unselect
    expect(slot(page, "09 h 00 – 11 h 00")).to_be_enabled()
    expect(page.locator("#selection-list li")).to_have_count(0)
    expect(page.locator("#continue")).to_be_hidden()


def test_the_calendar_changes_month_without_reloading_and_starts_weeks_on_monday(page, live_server, course):
    page.goto(booking_url(live_server, course))
    wait_for_calendar(page)
    page.evaluate("window.stillTheSamePage = true")
    label = page.locator(".month-label").text_content().strip()
    forward = page.locator(".month-next").is_enabled()
    arrow = page.locator(".month-next" if forward else ".month-prev")
    with page.expect_response(lambda r: "/disponibilites?" in r.url and r.ok):
        arrow.click()
    wait_for_calendar(page)
    expect(page.locator(".month-label")).not_to_have_text(label)
    first = page.locator(".month-days .day").first
    weekday = date.fromisoformat(first.get_attribute("data-date")).weekday()
    assert first.get_attribute("data-date").endswith("-01")
    assert first.evaluate("d => d.closest('td').cellIndex") == weekday  # Monday is column 0
    expect(page.locator(".month-days a.day.available").first).to_be_visible()
    page.locator(".month-prev" if forward else ".month-next").click()
    expect(page.locator(".month-label")).to_have_text(label)
    assert page.evaluate("window.stillTheSamePage") is True


def test_a_failing_slots_request_says_so_instead_of_showing_an_empty_day(page, live_server, course):
    page.route(SLOTS_API, lambda route: route.fulfill(status=500, content_type="text/html", body="<h1>Erreur</h1>"))
    page.goto(booking_url(live_server, course))
    wait_for_calendar(page)
    page.locator(".month-days a.day.available").first.click()

    error = page.locator("#booking-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Impossible de charger les créneaux. Veuillez réessayer.")
    expect(page.locator("#slots")).not_to_contain_text("Aucun créneau")

    page.unroute(SLOTS_API)
    error.get_by_role("button", name="Réessayer").click()
    expect(error).to_be_hidden()
    expect(page.locator("#slots button.slot").first).to_be_visible()


def test_a_slot_taken_meanwhile_is_refused_and_the_selection_kept(page, live_server, course, tutors, make, db):
    page.goto(booking_url(live_server, course))
    open_day_offering(page, "09 h 00 – 10 h 00")
    slot(page, "09 h 00 – 10 h 00").click()
    slot(page, "11 h 00 – 12 h 00").click()
    taken = datetime.fromisoformat(slot(page, "09 h 00 – 10 h 00").get_attribute("data-start"))
    for tutor in tutors:
        make.appointment(tutor=tutor, course=course, starts_at=taken)
    db.session.commit()

    page.get_by_role("button", name="Continuer vers le panier (2 séances)").click()
    expect(page.locator("#booking-error")).to_contain_text("Ce créneau n'est plus disponible")
    assert page.url.endswith("/reservation") or "/reservation?" in page.url
    lines = page.locator("#selection-list li")
    expect(lines).to_have_count(2)
    expect(lines.nth(0)).to_contain_text("Plus disponible")
    expect(slot(page, "09 h 00 – 10 h 00")).to_have_count(0)

    lines.nth(0).get_by_role("button", name=re.compile("^Retirer")).click()
    expect(page.locator("#booking-error")).to_be_hidden()
    page.get_by_role("button", name="Continuer vers le panier (1 séance)").click()
    page.wait_for_url(live_server + "/panier")
    expect(page.locator(".cart-item")).to_have_count(1)
    expect(page.locator("#cart-total")).to_have_text("45,00\xa0$")


def test_changing_the_tutor_empties_the_selection_and_asks_for_that_tutor(page, live_server, course, tutors):
    page.goto(booking_url(live_server, course))
    open_day_offering(page, "09 h 00 – 10 h 00")
    slot(page, "09 h 00 – 10 h 00").click()
    expect(page.locator("#selection-list li")).to_have_count(1)

    tutor = tutors[1]
    with page.expect_request(lambda r: f"tuteur={tutor.id}" in r.url and "/creneaux" in r.url):
        page.get_by_label("Choisir un tuteur (optionnel)").select_option(str(tutor.id))
    expect(page.locator("#selection-list li")).to_have_count(0)
    expect(page.locator("#selection-note")).to_contain_text("Votre sélection a été vidée")
    expect(slot(page, "09 h 00 – 10 h 00")).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#slots")).not_to_contain_text(tutor.display_name)


def test_without_javascript_a_slot_form_adds_one_session(browser, live_server, course):
    context = browser.new_context(java_script_enabled=False, locale="fr-CA", timezone_id="America/Toronto")
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(booking_url(live_server, course))
        page.locator(".month-days a.day.available").first.click()
        page.wait_for_url(re.compile(r"date=\d{4}-\d{2}-\d{2}"))
        forms = page.locator("form.slot-form")
        expect(forms.first).to_be_visible()
        forms.first.locator("button").click()
        page.wait_for_url(live_server + "/panier")
        expect(page.locator(".cart-item")).to_have_count(1)
        expect(page.locator("#cart-total")).to_have_text("45,00\xa0$")
    finally:
        context.close()

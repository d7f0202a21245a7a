"""In Chromium: the home page lists courses, and each role logs in and lands where it works."""

import pytest

from ..factories import DEFAULT_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.app_config(WTF_CSRF_ENABLED=True)]


def test_home_page_lists_the_active_courses(page, live_server, make, db):
    make.course(title="Français – Secondaire", rate_cents=4500)
    make.course(title="MAT-1000 Calcul I", rate_cents=5500)
    db.session.commit()
    page.goto(live_server + "/")
    items = page.locator(".course-list li")
    assert items.count() == 2
    assert "MAT-1000 Calcul I" in items.nth(1).inner_text()
    assert "55,00" in items.nth(1).inner_text()


@pytest.mark.parametrize(
    "role, landing, heading",
    [
        ("admin", "/admin/", "Vue d'ensemble"),
        ("staff", "/admin/", "Vue d'ensemble"),
        ("accountant", "/admin/", "Vue d'ensemble"),
        ("tutor", "/admin/", "Bonjour"),
        ("student", "/tableau-de-bord", "Bonjour"),
    ],
)
def test_each_role_logs_in_through_the_form(page, live_server, make, db, role, landing, heading):
    user = make.tutor().user if role == "tutor" else make.user(role=role)
    db.session.commit()
    page.goto(live_server + "/connexion")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server + landing)
    assert heading in page.locator("h1").first.inner_text()


def test_a_wrong_password_shows_a_french_message(page, live_server, make, db):
    user = make.user()
    db.session.commit()
    page.goto(live_server + "/connexion")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", "mauvais")
    page.click("button[type=submit]")
    assert "Adresse courriel ou mot de passe invalide." in page.locator(".flash").inner_text()

"""Every response carries the security headers: pages, the back office, JSON, files, redirects and errors."""

import pytest

from tutoradmin.headers import HSTS

EXPECTED = {
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}

ANONYMOUS = [
    ("get", "/"),
    ("get", "/connexion"),
    ("get", "/cours"),
    ("get", "/sante"),
    ("get", "/static/css/site.css"),
    ("get", "/api/cours/inconnu/creneaux"),
    ("get", "/page-qui-n-existe-pas"),
    ("get", "/tableau-de-bord"),
    ("get", "/admin/"),
    ("post", "/webhooks/stripe"),
    ("get", "/deconnexion"),
]


def _assert_secured(response):
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (name, response.status_code)


@pytest.mark.parametrize("method, url", ANONYMOUS)
def test_every_kind_of_response_carries_the_security_headers(client, method, url):
    _assert_secured(getattr(client, method)(url))


@pytest.mark.parametrize("url", ["/admin/", "/admin/utilisateurs/", "/admin/utilisateurs/new/", "/admin/revenus/"])
def test_back_office_pages_carry_them_too(client, login_as, url):
    login_as("admin")
    response = client.get(url)
    assert response.status_code == 200
    _assert_secured(response)


@pytest.mark.app_config(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="1 per minute")
def test_rate_limited_answers_carry_them(client):
    client.post("/connexion", data={"email": "a@example.com", "password": "x"})
    response = client.post("/connexion", data={"email": "a@example.com", "password": "x"})
    assert response.status_code == 429
    _assert_secured(response)


def test_development_does_not_pin_https(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


@pytest.mark.app_config(PRODUCTION=True)
def test_production_tells_browsers_to_keep_to_https(client):
    for url in ("/", "/static/css/site.css", "/page-qui-n-existe-pas"):
        assert client.get(url).headers["Strict-Transport-Security"] == HSTS

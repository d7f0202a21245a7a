"""Rate limits: password guessing, account creation, and client addresses behind a proxy."""

import pytest

from tutoradmin.models import User, utcnow

from .factories import DEFAULT_PASSWORD
from .shopping import billing_form, make_offer

LIMITED = pytest.mark.app_config(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")


def _login(client, user, password, address):
    return client.post(
        "/connexion", data={"email": user.email, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


@pytest.fixture
def owner(make, db):
    user = make.user()
    db.session.commit()
    return user


@LIMITED
def test_wrong_passwords_from_many_addresses_do_not_lock_the_owner_out(client, owner):
    for n in range(10):
        assert _login(client, owner, "devine-encore", f"198.51.100.{n}").status_code == 400
    assert _login(client, owner, DEFAULT_PASSWORD, "203.0.113.7").status_code == 302


@LIMITED
def test_an_address_that_kept_failing_is_stopped_even_with_the_right_password(client, owner):
    for _ in range(3):
        assert _login(client, owner, "devine-encore", "198.51.100.1").status_code == 400
    response = _login(client, owner, DEFAULT_PASSWORD, "198.51.100.1")
    assert response.status_code == 429
    assert "Trop de tentatives" in response.get_data(as_text=True)


@LIMITED
def test_one_address_trying_many_accounts_is_stopped(client, make, db):
    users = [make.user() for _ in range(4)]
    db.session.commit()
    codes = [_login(client, user, "devine-encore", "198.51.100.9").status_code for user in users]
    assert codes == [400, 400, 400, 429]


@pytest.mark.app_config(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute", TRUSTED_PROXIES=1)
def test_behind_a_trusted_proxy_each_client_has_its_own_address(client, owner):
    def through_proxy(password, client_address):
        return client.post(
            "/connexion",
            data={"email": owner.email, "password": password},
            headers={"X-Forwarded-For": client_address},
            environ_base={"REMOTE_ADDR": "10.0.0.2"},
        )

    for _ in range(3):
        assert through_proxy("devine-encore", "198.51.100.1").status_code == 400
    assert through_proxy(DEFAULT_PASSWORD, "198.51.100.1").status_code == 429
    assert through_proxy(DEFAULT_PASSWORD, "203.0.113.7").status_code == 302


@LIMITED
def test_without_a_trusted_proxy_a_forged_forwarded_header_changes_nothing(client, owner):
    for n in range(3):
        response = client.post(
            "/connexion",
            data={"email": owner.email, "password": "devine-encore"},
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
        )
        assert response.status_code == 400
    response = client.post(
        "/connexion",
        data={"email": owner.email, "password": DEFAULT_PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert response.status_code == 429


def _signup(client, n):
    password = "un-bon-mot-de-passe"
    return client.post(
        "/inscription",
        data={
            "first_name": "Léa",
            "last_name": "Gagnon",
            "email": f"lea{n}@example.com",
            "password": password,
            "password_confirm": password,
        },
    )


@pytest.mark.app_config(RATELIMIT_ENABLED=True, SIGNUP_RATE_LIMIT="2 per minute")
def test_sign_ups_are_rate_limited_per_address(app, client, db):
    assert [_signup(app.test_client(), n).status_code for n in range(3)] == [302, 302, 429]
    assert db.session.query(User).count() == 2
    # Reading the form is not an attempt.
    assert client.get("/inscription").status_code == 200


@pytest.mark.app_config(RATELIMIT_ENABLED=True, SIGNUP_RATE_LIMIT="2 per minute")
def test_guest_checkouts_share_the_account_creation_budget(app, client, db, make):
    offer = make_offer(db, make, utcnow())
    student = make.user()
    db.session.commit()
    body = {"cours": offer.course.slug, "creneaux": [{"debut": offer.at(9).isoformat(), "duree": 60}]}
    assert client.post("/panier/ajouter", json=body, headers={"Accept": "application/json"}).status_code == 200

    assert _signup(app.test_client(), 1).status_code == 302
    assert client.post("/checkout", data=billing_form(email="invite@example.com")).status_code == 302
    assert client.post("/checkout", data=billing_form(email="invite@example.com")).status_code == 429

    # A signed-in student's checkout creates no account and is not counted.
    signed_in = app.test_client()
    assert signed_in.post("/connexion", data={"email": student.email, "password": DEFAULT_PASSWORD}).status_code == 302
    assert signed_in.post("/checkout", data=billing_form()).status_code != 429


@pytest.mark.app_config(TRUSTED_PROXIES=2)
def test_the_settings_page_tells_how_many_proxies_are_trusted(client, login_as):
    login_as("admin")
    page = client.get("/admin/parametres/").get_data(as_text=True)
    row = '<th class="w-50">Mandataires inverses de confiance</th><td>2</td><td><code>TRUSTED_PROXIES</code></td>'
    assert row in page

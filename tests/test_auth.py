"""Login, logout, sign-up, landing pages and the protections around them."""

import pytest

from tutoradmin.models import User

from .factories import DEFAULT_PASSWORD

BACK_OFFICE = ["admin", "staff", "tutor", "accountant"]


def _make_role(make, role):
    return make.tutor().user if role == "tutor" else make.user(role=role)


@pytest.mark.parametrize(
    "role, landing",
    [(r, "/admin/") for r in BACK_OFFICE] + [("student", "/tableau-de-bord")],
)
def test_each_role_lands_where_it_works(client, make, db, role, landing):
    user = _make_role(make, role)
    db.session.commit()
    response = client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(landing)
    assert client.get(landing).status_code == 200


def test_login_ignores_the_case_of_the_email(client, make, db):
    user = make.user(email="julie.tremblay@example.com")
    db.session.commit()
    response = client.post("/connexion", data={"email": "  Julie.Tremblay@EXAMPLE.com ", "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert db.session.get(User, user.id).last_login_at is not None


@pytest.mark.parametrize(
    "email, password", [("eleve@example.com", "mauvais-mot"), ("inconnu@example.com", DEFAULT_PASSWORD)]
)
def test_bad_credentials_get_one_french_message_and_no_session(client, make, db, email, password):
    make.user(email="eleve@example.com")
    db.session.commit()
    response = client.post("/connexion", data={"email": email, "password": password})
    assert response.status_code == 400
    assert "Adresse courriel ou mot de passe invalide." in response.get_data(as_text=True)
    assert client.get("/tableau-de-bord").status_code == 302


def test_empty_login_form_is_refused_in_french(client):
    response = client.post("/connexion", data={})
    assert response.status_code == 400
    assert "Ce champ est obligatoire." in response.get_data(as_text=True)


def test_a_suspended_account_cannot_log_in(client, make, db):
    user = make.user(status="suspended")
    db.session.commit()
    response = client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert "suspendu" in response.get_data(as_text=True)
    assert client.get("/tableau-de-bord").status_code == 302


def test_suspension_ends_an_open_session(client, make, db, login):
    user = make.user(role="staff")
    db.session.commit()
    login(user)
    assert client.get("/admin/").status_code == 200
    user.status = "suspended"
    db.session.commit()
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/connexion" in response.headers["Location"]


@pytest.mark.parametrize("target", ["/cours", "/admin/?page=2"])
def test_login_returns_to_a_page_of_this_site(client, make, db, target):
    user = make.user(role="admin")
    db.session.commit()
    response = client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD, "next": target})
    assert response.headers["Location"] == target


@pytest.mark.parametrize(
    "target",
    ["https://evil.example.com/", "//evil.example.com/", "/\\evil.example.com", "javascript:alert(1)", "http:/evil"],
)
def test_login_never_redirects_off_site(client, make, db, target):
    user = make.user()
    db.session.commit()
    response = client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD, "next": target})
    assert response.headers["Location"] == "/tableau-de-bord"


def test_the_login_page_carries_next_into_the_form(client):
    page = client.get("/connexion?next=/cours").get_data(as_text=True)
    assert 'value="/cours"' in page


def test_logout_needs_a_post(client, make, db, login):
    user = make.user()
    db.session.commit()
    login(user)
    assert client.get("/deconnexion").status_code == 405
    client.post("/deconnexion")
    assert client.get("/tableau-de-bord").status_code == 302


def test_signup_creates_a_student_and_signs_them_in(client, db):
    response = client.post(
        "/inscription",
        data={
            "first_name": "Léa",
            "last_name": "Gagnon",
            "email": "Lea.Gagnon@Example.com",
            "password": "un-bon-mot-de-passe",
            "password_confirm": "un-bon-mot-de-passe",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/tableau-de-bord"
    user = User.find_by_email("lea.gagnon@example.com")
    assert (user.role, user.status, user.first_name) == ("student", "active", "Léa")
    assert user.password_hash.startswith("scrypt:")
    assert "un-bon-mot-de-passe" not in user.password_hash
    assert "Léa" in client.get("/tableau-de-bord").get_data(as_text=True)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"email": "LEA@example.com"}, "Un compte existe déjà avec cette adresse email."),
        ({"password": "court", "password_confirm": "court"}, "au moins 8 caractères"),
        ({"password_confirm": "autre-chose-123"}, "Les mots de passe ne correspondent pas."),
        ({"email": "pas-une-adresse"}, "Adresse courriel invalide."),
        ({"first_name": ""}, "Ce champ est obligatoire."),
    ],
)
def test_bad_signups_are_explained_and_change_nothing(client, make, db, fields, message):
    make.user(email="lea@example.com")
    db.session.commit()
    data = {
        "first_name": "Léa",
        "last_name": "Gagnon",
        "email": "nouvelle@example.com",
        "password": "un-bon-mot-de-passe",
        "password_confirm": "un-bon-mot-de-passe",
    }
    data.update(fields)
    response = client.post("/inscription", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.query(User).count() == 1


@pytest.mark.parametrize("role", BACK_OFFICE)
def test_the_student_dashboard_is_for_students(client, make, db, login, role):
    login(_make_role(make, role))
    assert client.get("/tableau-de-bord").status_code == 403


def test_the_dashboard_sends_anonymous_visitors_to_login(client):
    response = client.get("/tableau-de-bord")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion?next=")


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_forms_without_a_csrf_token_are_refused(client, make, db):
    user = make.user()
    db.session.commit()
    response = client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert client.get("/tableau-de-bord").status_code == 302


@pytest.mark.app_config(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
def test_login_attempts_are_rate_limited(client, make, db):
    user = make.user()
    db.session.commit()
    for _ in range(3):
        assert client.post("/connexion", data={"email": user.email, "password": "non"}).status_code == 400
    response = client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 429
    assert "Trop de tentatives" in response.get_data(as_text=True)
    # Reading the page is not an attempt.
    assert client.get("/connexion").status_code == 200

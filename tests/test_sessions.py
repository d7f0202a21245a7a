"""Session and remember-me cookies: what they carry, and when they stop working."""

import pytest

from tutoradmin import accounts
from tutoradmin.models import User

from .factories import DEFAULT_PASSWORD

COOKIES = ("session", "remember_token")


def _sign_in(client, user, remember=True):
    data = {"email": user.email, "password": DEFAULT_PASSWORD}
    if remember:
        data["remember"] = "y"
    response = client.post("/connexion", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def _cookies(client, names=COOKIES):
    found = {name: client.get_cookie(name) for name in names}
    assert all(found.values()), found
    return {name: cookie.value for name, cookie in found.items()}


def _replay(app, cookies):
    """A new browser holding only these cookies."""
    browser = app.test_client()
    for name, value in cookies.items():
        browser.set_cookie(name, value, domain="localhost")
    return browser


def _signed_in(browser):
    return browser.get("/tableau-de-bord").status_code == 200


@pytest.fixture
def student(make, db):
    user = make.user()
    db.session.commit()
    return user


def test_the_remember_me_cookie_alone_signs_the_student_in(app, client, student):
    _sign_in(client, student)
    assert _signed_in(_replay(app, _cookies(client, ["remember_token"])))


@pytest.mark.parametrize("kept", [COOKIES, ("session",), ("remember_token",)])
def test_cookies_copied_before_logout_no_longer_work_after_it(app, client, student, kept):
    _sign_in(client, student)
    copied = _cookies(client, kept)
    assert _signed_in(_replay(app, copied))

    client.post("/deconnexion")

    assert not _signed_in(client)
    assert not _signed_in(_replay(app, copied))


def test_two_logins_separated_by_a_logout_get_different_cookies(client, student):
    _sign_in(client, student)
    first = _cookies(client)
    client.post("/deconnexion")
    _sign_in(client, student)
    second = _cookies(client)
    assert first["remember_token"] != second["remember_token"]
    assert first["session"] != second["session"]


def test_logging_out_signs_the_account_out_of_every_browser(app, client, student):
    phone = app.test_client()
    _sign_in(phone, student)
    _sign_in(client, student)
    client.post("/deconnexion")
    assert not _signed_in(phone)


def test_cookies_name_the_account_by_its_token_not_its_id(app, client, student):
    _sign_in(client, student)
    with client.session_transaction() as session:
        assert session["_user_id"] == student.session_token != str(student.id)
    # A cookie signed with the site's key but naming the id, as before tokens existed, signs nobody in.
    forged = app.test_client()
    with forged.session_transaction() as session:
        session["_user_id"] = str(student.id)
    assert not _signed_in(forged)


def test_every_account_gets_its_own_random_token(make, db):
    tokens = {make.user().session_token for _ in range(5)}
    assert len(tokens) == 5 and all(len(token) >= 40 for token in tokens)


def test_an_admin_changing_a_students_password_signs_the_student_out_everywhere(app, client, make, db, student):
    _sign_in(client, student)
    kept = _cookies(client)
    admin = app.test_client()
    _sign_in(admin, make.user(role="admin"))
    db.session.commit()
    data = {
        "email": student.email,
        "first_name": student.first_name,
        "last_name": student.last_name,
        "phone": "",
        "role": "student",
        "status": "active",
        "password": "un-nouveau-secret-42",
    }
    assert admin.post(f"/admin/utilisateurs/edit/?id={student.id}", data=data).status_code == 302

    assert not _signed_in(client)
    assert not _signed_in(_replay(app, kept))
    db.session.expire_all()
    assert db.session.get(User, student.id).check_password("un-nouveau-secret-42")


def test_an_admin_editing_a_students_name_leaves_them_signed_in(app, client, make, db, student):
    _sign_in(client, student)
    admin = app.test_client()
    _sign_in(admin, make.user(role="admin"))
    data = {
        "email": student.email,
        "first_name": "Nouveau",
        "last_name": student.last_name,
        "phone": "",
        "role": "student",
        "status": "active",
        "password": "",
    }
    assert admin.post(f"/admin/utilisateurs/edit/?id={student.id}", data=data).status_code == 302
    assert _signed_in(client)


def test_an_administrator_changing_their_own_password_stays_signed_in_only_here(app, client, make, db):
    admin = make.user(role="admin")
    db.session.commit()
    laptop = app.test_client()
    _sign_in(laptop, admin)
    _sign_in(client, admin)
    data = {
        "email": admin.email,
        "first_name": admin.first_name,
        "last_name": admin.last_name,
        "phone": "",
        "role": "admin",
        "status": "active",
        "password": "un-nouveau-secret-42",
    }
    assert client.post(f"/admin/utilisateurs/edit/?id={admin.id}", data=data).status_code == 302
    assert client.get("/admin/").status_code == 200
    assert laptop.get("/admin/").status_code == 302


def test_a_suspension_ends_remember_me_cookies_even_once_lifted(app, client, make, db, student):
    _sign_in(client, student)
    kept = _cookies(client)
    staff = app.test_client()
    _sign_in(staff, make.user(role="staff"))
    edit = f"/admin/etudiants/edit/?id={student.id}"
    data = {"first_name": student.first_name, "last_name": student.last_name, "phone": ""}
    assert staff.post(edit, data={**data, "status": "suspended"}).status_code == 302
    assert not _signed_in(client)

    assert staff.post(edit, data={**data, "status": "active"}).status_code == 302
    assert not _signed_in(_replay(app, kept))
    _sign_in(client, student)
    assert _signed_in(client)


def test_a_change_of_role_or_status_replaces_the_token(make, db):
    user = make.user()
    db.session.commit()
    before = user.session_token
    user.first_name = "Autre"
    accounts.end_sessions_if_access_changed(user)
    assert user.session_token == before
    user.role = "staff"
    accounts.end_sessions_if_access_changed(user)
    assert user.session_token != before


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_login_starts_a_fresh_session(client, student):
    page = client.get("/connexion").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    with client.session_transaction() as session:
        # What someone else may have planted in the browser before it signs in.
        session["planted"] = "par un autre"
        before = session["csrf_token"]
    data = {"email": student.email, "password": DEFAULT_PASSWORD, "csrf_token": token}
    assert client.post("/connexion", data=data).status_code == 302
    client.get("/tableau-de-bord")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("csrf_token") not in (None, before)


def test_session_and_remember_cookies_are_http_only_and_lax(client, student):
    response = _sign_in(client, student)
    cookies = {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}
    assert set(COOKIES) <= set(cookies)
    for name in COOKIES:
        assert "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name], cookies[name]


@pytest.mark.app_config(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
def test_production_cookies_are_only_sent_over_https(client, student):
    response = _sign_in(client, student)
    for header in response.headers.getlist("Set-Cookie"):
        assert "Secure" in header, header


@pytest.mark.parametrize(
    "url",
    [
        "/admin/utilisateurs/",
        "/admin/utilisateurs/details/?id={id}",
        "/admin/utilisateurs/edit/?id={id}",
        "/admin/etudiants/",
        "/admin/etudiants/details/?id={id}",
        "/admin/etudiants/edit/?id={id}",
    ],
)
def test_the_back_office_never_shows_a_session_token(client, login_as, student, url):
    login_as("admin")
    response = client.get(url.format(id=student.id))
    assert response.status_code == 200
    assert student.session_token not in response.get_data(as_text=True)

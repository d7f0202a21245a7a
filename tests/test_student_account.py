"""The student's own account: profile, password change, forgotten password (signed single-use links)."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import select

from tutoradmin import accounts, password_reset
from tutoradmin.localtime import to_local
from tutoradmin.models import OutboxEvent, User, UserStatus, utcnow
from tutoradmin.password_reset import EXPIRED, INVALID, REQUEST_RECEIVED, ResetLinkError

from .factories import DEFAULT_PASSWORD

SCHEMA = Path(__file__).resolve().parent.parent / "docs" / "webhook-schemas" / "password.reset_requested.json"
NEW_PASSWORD = "Cerf-volant-2027"
SECRET = "test-secret-key"  # the tests' SECRET_KEY (conftest)


def _page(response):
    return response.get_data(as_text=True).replace("&#39;", "'")


def _reset_events(db):
    return db.session.scalars(
        select(OutboxEvent).where(OutboxEvent.event_type == "password.reset_requested").order_by(OutboxEvent.id)
    ).all()


@pytest.fixture
def student(make, db):
    user = make.user(first_name="Léa", last_name="Gagnon", phone="418 555-0101", email="lea@example.com")
    db.session.commit()
    return user


@pytest.fixture
def other_browser(app, student):
    """A second browser of the same student, signed in."""
    browser = app.test_client()
    response = browser.post("/connexion", data={"email": student.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert browser.get("/tableau-de-bord").status_code == 200
    return browser


def _signed_out(browser):
    response = browser.get("/tableau-de-bord")
    return response.status_code == 302 and "/connexion" in response.headers["Location"]


# Profile


def test_the_profile_page_shows_the_email_read_only_and_how_to_change_it(client, login, student):
    login(student)
    html = _page(client.get("/tableau-de-bord/profil"))

    assert 'value="lea@example.com" readonly' in html
    assert "Pour changer d'adresse courriel, écrivez-nous." in html
    assert 'value="Léa"' in html and 'value="418 555-0101"' in html


def test_a_student_changes_name_and_phone_but_not_the_email(client, login, db, student):
    login(student)
    response = client.post(
        "/tableau-de-bord/profil",
        data={
            "first_name": "  Léa-Marie ",
            "last_name": "Gagnon  Roy",
            "phone": "+1 (514) 555-0123 poste 12",
            "email": "pirate@example.com",
        },
    )

    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, student.id)
    assert (user.first_name, user.last_name, user.phone) == ("Léa-Marie", "Gagnon Roy", "+1 (514) 555-0123 poste 12")
    assert user.email == "lea@example.com"
    assert "Votre profil est enregistré." in _page(client.get("/tableau-de-bord/profil"))


def test_an_empty_phone_is_stored_as_none(client, login, db, student):
    login(student)
    client.post("/tableau-de-bord/profil", data={"first_name": "Léa", "last_name": "Gagnon", "phone": "  "})
    db.session.expire_all()
    assert db.session.get(User, student.id).phone is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"first_name": "", "last_name": "Gagnon"}, "Ce champ est obligatoire."),
        ({"first_name": "   ", "last_name": "Gagnon"}, "Ce champ est obligatoire."),
        ({"first_name": "Léa", "last_name": "G" * 101}, "100"),
        ({"first_name": "Léa", "last_name": "Gagnon", "phone": "abc"}, accounts.INVALID_PHONE),
        ({"first_name": "Léa", "last_name": "Gagnon", "phone": "555-01"}, accounts.INVALID_PHONE),
        ({"first_name": "Léa", "last_name": "Gagnon", "phone": "1" * 16}, accounts.INVALID_PHONE),
        ({"first_name": "Léa", "last_name": "Gagnon", "phone": "5" * 41}, "40"),
        ({"first_name": "Léa", "last_name": "Gagnon", "phone": "514 555 0123; DROP"}, accounts.INVALID_PHONE),
        ({"first_name": "Lé\x00a", "last_name": "Gagnon"}, "caractère nul"),
    ],
)
def test_a_bad_profile_is_refused_in_french_and_nothing_changes(client, login, db, student, data, message):
    login(student)
    response = client.post("/tableau-de-bord/profil", data={"phone": "", **data})

    assert response.status_code == 400
    assert message in _page(response)
    db.session.expire_all()
    user = db.session.get(User, student.id)
    assert (user.first_name, user.last_name, user.phone) == ("Léa", "Gagnon", "418 555-0101")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("514 555-0123", "514 555-0123"),
        ("5145550123", "5145550123"),
        ("514.555.0123 x4", "514.555.0123 x4"),
        ("+33 1 23 45 67 89", "+33 1 23 45 67 89"),
        (" 514  555-0123 ", "514 555-0123"),
        ("", None),
    ],
)
def test_common_phone_formats_are_accepted(student, typed, stored):
    accounts.update_profile(student, "Léa", "Gagnon", typed)
    assert student.phone == stored


@pytest.mark.parametrize("first_name, last_name", [("", "Gagnon"), ("Léa", " "), ("x" * 101, "Gagnon")])
def test_the_domain_refuses_missing_or_long_names(student, first_name, last_name):
    with pytest.raises(accounts.AccountError):
        accounts.update_profile(student, first_name, last_name, None)
    assert (student.first_name, student.last_name) == ("Léa", "Gagnon")


# Changing the password


def test_changing_the_password_signs_out_other_browsers_and_keeps_this_one(client, login, db, student, other_browser):
    login(student)
    old_token = student.session_token

    response = client.post(
        "/tableau-de-bord/mot-de-passe",
        data={"current_password": DEFAULT_PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert client.get("/tableau-de-bord").status_code == 200
    assert _signed_out(other_browser)
    db.session.expire_all()
    user = db.session.get(User, student.id)
    assert user.session_token != old_token
    assert user.check_password(NEW_PASSWORD) and not user.check_password(DEFAULT_PASSWORD)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"current_password": "pas-le-bon-1", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
            accounts.WRONG_CURRENT_PASSWORD,
        ),
        ({"current_password": "", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}, "obligatoire"),
        (
            {"current_password": DEFAULT_PASSWORD, "password": NEW_PASSWORD, "password_confirm": "autre-chose-9"},
            "ne correspondent pas",
        ),
        ({"current_password": DEFAULT_PASSWORD, "password": "court", "password_confirm": "court"}, "8 caractères"),
        (
            {"current_password": DEFAULT_PASSWORD, "password": "password123", "password_confirm": "password123"},
            "trop courant",
        ),
    ],
)
def test_a_refused_password_change_changes_nothing(client, login, db, student, other_browser, data, message):
    login(student)
    before = (student.password_hash, student.session_token)

    response = client.post("/tableau-de-bord/mot-de-passe", data=data)

    assert response.status_code == 400
    assert message in _page(response)
    db.session.expire_all()
    user = db.session.get(User, student.id)
    assert (user.password_hash, user.session_token) == before
    assert other_browser.get("/tableau-de-bord").status_code == 200


@pytest.mark.app_config(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
def test_guessing_the_current_password_is_rate_limited(client, login, db, student):
    login(student)
    wrong = {"current_password": "devine-encore", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    codes = [client.post("/tableau-de-bord/mot-de-passe", data=wrong).status_code for _ in range(3)]
    right = {**wrong, "current_password": DEFAULT_PASSWORD}

    response = client.post("/tableau-de-bord/mot-de-passe", data=right)

    assert codes == [400, 400, 400]
    assert response.status_code == 429
    db.session.expire_all()
    assert db.session.get(User, student.id).check_password(DEFAULT_PASSWORD)


def test_the_change_password_page_is_for_signed_in_students(client, login_as):
    response = client.get("/tableau-de-bord/mot-de-passe")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]
    login_as("staff")
    assert client.get("/tableau-de-bord/mot-de-passe").status_code == 403
    assert client.get("/tableau-de-bord/profil").status_code == 403


# Forgotten password: the request


def test_the_login_page_links_to_the_forgotten_password_page(client):
    html = _page(client.get("/connexion"))
    assert 'href="/mot-de-passe-oublie"' in html and "Mot de passe oublié ?" in html


def test_a_reset_request_queues_one_event_that_matches_its_schema(app, client, db, student):
    before = utcnow()
    response = client.post("/mot-de-passe-oublie", data={"email": " LEA@example.com "})

    assert response.status_code == 302
    assert REQUEST_RECEIVED in _page(client.get(response.headers["Location"]))
    (event,) = _reset_events(db)
    Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(event.payload)
    assert event.payload["user"] == {
        "id": student.id,
        "first_name": "Léa",
        "last_name": "Gagnon",
        "email": student.email,
    }
    base = app.config["PUBLIC_BASE_URL"]
    assert event.payload["reset_url"].startswith(f"{base}/mot-de-passe/")
    expires = to_local(event.created_at + timedelta(hours=1)).replace(microsecond=0)
    assert event.payload["expires_at"] == expires.isoformat()
    assert before <= event.created_at <= utcnow()
    assert event.dedupe_key.startswith(f"password.reset_requested:user:{student.id}:")


def test_an_unknown_email_gets_the_same_answer_and_no_event(client, db, student):
    known = client.post("/mot-de-passe-oublie", data={"email": student.email})
    known_page = _page(client.get(known.headers["Location"]))
    unknown = client.post("/mot-de-passe-oublie", data={"email": "personne@example.com"})
    unknown_page = _page(client.get(unknown.headers["Location"]))

    assert (known.status_code, known.headers["Location"]) == (unknown.status_code, unknown.headers["Location"])
    assert REQUEST_RECEIVED in known_page and REQUEST_RECEIVED in unknown_page
    assert len(_reset_events(db)) == 1


def test_a_suspended_account_gets_no_link(client, db, make):
    user = make.user(status=UserStatus.SUSPENDED.value)
    db.session.commit()

    response = client.post("/mot-de-passe-oublie", data={"email": user.email})

    assert response.status_code == 302
    assert _reset_events(db) == []


@pytest.mark.parametrize("email", ["", "pas-une-adresse", "a@" + "b" * 260 + ".ca"])
def test_a_malformed_address_is_refused_in_french_and_queues_nothing(client, db, student, email):
    response = client.post("/mot-de-passe-oublie", data={"email": email})
    assert response.status_code == 400
    assert "Adresse courriel invalide." in _page(response) or "obligatoire" in _page(response)
    assert _reset_events(db) == []


def test_each_request_sends_its_own_link(db, student, now):
    password_reset.request_reset(student.email, lambda t: f"https://x/{t}", SECRET, now)
    password_reset.request_reset(student.email, lambda t: f"https://x/{t}", SECRET, now + timedelta(minutes=5))

    urls = [e.payload["reset_url"] for e in _reset_events(db)]
    assert len(urls) == 2 and urls[0] != urls[1]


@pytest.mark.app_config(RATELIMIT_ENABLED=True, PASSWORD_RESET_RATE_LIMIT="2 per minute")
def test_requests_for_one_account_are_limited_whatever_the_address(client, db, student):
    codes = [
        client.post(
            "/mot-de-passe-oublie", data={"email": student.email}, environ_base={"REMOTE_ADDR": f"198.51.100.{n}"}
        ).status_code
        for n in range(3)
    ]
    assert codes == [302, 302, 429]
    assert len(_reset_events(db)) <= 2


@pytest.mark.app_config(RATELIMIT_ENABLED=True, PASSWORD_RESET_RATE_LIMIT="2 per minute")
def test_requests_from_one_address_are_limited_whatever_the_account(client, db):
    codes = [
        client.post(
            "/mot-de-passe-oublie",
            data={"email": f"quelquun{n}@example.com"},
            environ_base={"REMOTE_ADDR": "198.51.100.9"},
        ).status_code
        for n in range(3)
    ]
    assert codes == [302, 302, 429]
    assert "Trop de tentatives" in _page(
        client.post(
            "/mot-de-passe-oublie", data={"email": "x@example.com"}, environ_base={"REMOTE_ADDR": "198.51.100.9"}
        )
    )


# Forgotten password: the link


def _link_path(db):
    return _reset_events(db)[-1].payload["reset_url"].split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def test_the_link_sets_a_new_password_signs_in_and_signs_out_other_browsers(client, db, student, other_browser):
    client.post("/mot-de-passe-oublie", data={"email": student.email})
    path = _link_path(db)

    assert client.get(path).status_code == 200
    response = client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})

    assert response.status_code == 302 and response.headers["Location"].endswith("/tableau-de-bord")
    assert client.get("/tableau-de-bord").status_code == 200
    assert _signed_out(other_browser)
    db.session.expire_all()
    assert db.session.get(User, student.id).check_password(NEW_PASSWORD)


def test_a_link_works_once(client, db, student):
    client.post("/mot-de-passe-oublie", data={"email": student.email})
    path = _link_path(db)
    client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})

    again = client.post(path, data={"password": "Troisieme-essai-3", "password_confirm": "Troisieme-essai-3"})

    assert again.status_code == 400
    html = _page(again)
    assert INVALID in html and 'href="/mot-de-passe-oublie"' in html
    db.session.expire_all()
    assert db.session.get(User, student.id).check_password(NEW_PASSWORD)


def test_a_link_dies_when_the_password_changes_otherwise(client, db, student, now):
    token = password_reset.make_token(student, SECRET, now)
    student.set_password(NEW_PASSWORD)
    db.session.commit()

    with pytest.raises(ResetLinkError, match="déjà servi"):
        password_reset.user_for_token(token, SECRET, now)


def test_a_link_is_valid_one_hour_to_the_second(db, student, now):
    token = password_reset.make_token(student, SECRET, now)

    assert password_reset.user_for_token(token, SECRET, now + timedelta(hours=1)) == student
    with pytest.raises(ResetLinkError) as expired:
        password_reset.user_for_token(token, SECRET, now + timedelta(hours=1, seconds=1))
    assert expired.value.message == EXPIRED


def test_an_expired_link_says_so_in_french_and_offers_a_new_one(client, db, student):
    token = password_reset.make_token(student, SECRET, utcnow() - timedelta(minutes=61))

    response = client.post(f"/mot-de-passe/{token}", data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})

    assert response.status_code == 400
    assert EXPIRED in _page(response) and "Demander un nouveau lien" in _page(response)
    assert response.headers["Cache-Control"] == "no-store"
    db.session.expire_all()
    assert db.session.get(User, student.id).check_password(DEFAULT_PASSWORD)


def test_a_link_from_the_future_is_refused(db, student, now):
    token = password_reset.make_token(student, SECRET, now + timedelta(minutes=5))
    with pytest.raises(ResetLinkError):
        password_reset.user_for_token(token, SECRET, now)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: "x" + token,
        lambda token: token.split(".", 1)[1],
        lambda token: "abc",
        lambda token: "..",
        lambda token: "%C3%A9",
    ],
)
def test_a_tampered_link_is_refused_in_french(client, db, student, now, tamper):
    token = tamper(password_reset.make_token(student, SECRET, utcnow()))

    response = client.get(f"/mot-de-passe/{token}")

    assert response.status_code in (400, 404)
    if response.status_code == 400:
        assert INVALID in _page(response)


def test_a_link_signed_with_another_key_or_naming_another_account_is_refused(db, student, make, now):
    with pytest.raises(ResetLinkError):
        password_reset.user_for_token(password_reset.make_token(student, "autre-clé", now), SECRET, now)
    other = make.user()
    forged = password_reset._serializer(SECRET, now).dumps([other.id, password_reset._fingerprint(student)])
    with pytest.raises(ResetLinkError):
        password_reset.user_for_token(forged, SECRET, now)
    for payload in ([None, "x"], ["1", "x"], [True, "x"], {"id": 1}, "texte", [student.id]):
        with pytest.raises(ResetLinkError):
            password_reset.user_for_token(password_reset._serializer(SECRET, now).dumps(payload), SECRET, now)


def test_a_suspended_accounts_link_stops_working(client, db, student, now):
    token = password_reset.make_token(student, SECRET, utcnow())
    student.status = UserStatus.SUSPENDED.value
    db.session.commit()

    response = client.post(f"/mot-de-passe/{token}", data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})

    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, student.id).check_password(DEFAULT_PASSWORD)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"password": "court", "password_confirm": "court"}, "8 caractères"),
        ({"password": NEW_PASSWORD, "password_confirm": "autre-chose-9"}, "ne correspondent pas"),
        ({"password": "motdepasse", "password_confirm": "motdepasse"}, "trop courant"),
        ({}, "obligatoire"),
    ],
)
def test_a_weak_or_mismatched_new_password_keeps_the_link_usable(client, db, student, data, message):
    token = password_reset.make_token(student, SECRET, utcnow())

    response = client.post(f"/mot-de-passe/{token}", data=data)

    assert response.status_code == 400 and message in _page(response)
    db.session.expire_all()
    assert db.session.get(User, student.id).check_password(DEFAULT_PASSWORD)
    assert client.get(f"/mot-de-passe/{token}").status_code == 200


def test_an_office_account_may_reset_its_password_and_lands_in_the_back_office(client, db, make):
    staff = make.user(role="staff")
    db.session.commit()
    token = password_reset.make_token(staff, SECRET, utcnow())

    response = client.post(f"/mot-de-passe/{token}", data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})

    assert response.status_code == 302 and "/admin" in response.headers["Location"]


# Saved cards need Stripe


def test_without_stripe_keys_there_is_no_card_page(client, login, student):
    login(student)
    assert client.get("/tableau-de-bord/cartes").status_code == 404
    assert "/tableau-de-bord/cartes" not in client.get("/tableau-de-bord/profil").get_data(as_text=True)
    assert "/tableau-de-bord/cartes" not in client.get("/tableau-de-bord").get_data(as_text=True)
    assert (
        client.post("/tableau-de-bord/cartes", data={"payment_method": "pm_x", "action": "remove"}).status_code == 404
    )

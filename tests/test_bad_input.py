"""Bad input gets a 400 or 404 with a French message and writes nothing (SPEC §12), on both databases."""

import hmac
import json
import time
from hashlib import sha256
from html import unescape

import pytest
from flask import get_flashed_messages
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tutoradmin import json_input
from tutoradmin.formatting import money
from tutoradmin.forms import NUL_CHARACTER, NUMBER_TOO_LARGE, YEAR_OUT_OF_RANGE
from tutoradmin.models import GatewayEvent, WeeklyRule
from tutoradmin.params import NUL_IN_URL
from tutoradmin.payments.base import sign_payload
from tutoradmin.pricing import MAX_HOURLY_RATE_CENTS
from tutoradmin.views.base import IN_USE
from tutoradmin.views.fields import AMOUNT_TOO_LARGE

from .booking_requests import course_offer
from .shopping import count, row_counts

BIG = 99999999999  # beyond PostgreSQL's INTEGER
DEEP_JSON = "[" * 50000 + "]" * 50000


@pytest.fixture
def offer(db, make):
    return course_offer(db, make)


def text(response):
    """The page's text, or the error of a JSON answer."""
    if response.is_json:
        return response.get_json()["error"]
    return unescape(response.get_data(as_text=True))


def unchanged(db, before):
    db.session.rollback()
    return row_counts(db) == before


# Ids beyond the database's integer range


def _public_big_id_requests(offer):
    start = offer.start().isoformat()
    return {
        "day slots": ("get", f"/api/cours/{offer.slug}/creneaux?date={offer.day}&duree=60&tuteur={BIG}", {}),
        "month days": (
            "get",
            f"/api/cours/{offer.slug}/disponibilites?mois={offer.day:%Y-%m}&duree=60&tuteur={BIG}",
            {},
        ),
        "booking page": ("get", f"/cours/{offer.slug}/reservation?tuteur={BIG}", {}),
        "cart add (JSON)": (
            "post",
            "/panier/ajouter",
            {"json": {"cours": offer.slug, "tuteur": BIG, "creneaux": [{"debut": start, "duree": 60}]}},
        ),
        "cart add (form)": (
            "post",
            "/panier/ajouter",
            {
                "data": {"cours": offer.slug, "tuteur": str(BIG), "debut": start, "duree": "60"},
                "headers": {"Accept": "application/json"},
            },
        ),
        "cart remove": ("post", f"/panier/retirer/{BIG}", {}),
        "cart hold again": ("post", f"/panier/retenir/{BIG}", {}),
        "payment return": ("get", f"/paiement/retour?commande={BIG}", {}),
    }


@pytest.mark.parametrize(
    "name",
    [
        "day slots",
        "month days",
        "booking page",
        "cart add (JSON)",
        "cart add (form)",
        "cart remove",
        "cart hold again",
        "payment return",
    ],
)
def test_an_id_beyond_the_database_integers_is_refused_or_not_found(client, db, offer, name):
    # A cart, so that removing an item looks it up.
    client.post(
        "/panier/ajouter", json={"cours": offer.slug, "creneaux": [{"debut": offer.start(10).isoformat(), "duree": 60}]}
    )
    before = row_counts(db)
    method, url, options = _public_big_id_requests(offer)[name]

    response = getattr(client, method)(url, **options)

    assert response.status_code in (400, 404)
    assert "invalide" in text(response) or "introuvable" in text(response)
    assert unchanged(db, before)


# NUL characters


@pytest.mark.parametrize(
    "url",
    [
        "/cours/fran%00cais",
        "/cours/a%00b/reservation",
        "/api/cours/a%00b/creneaux",
        "/paiement/simule/pi%00",
        "/cours?x=%00",
        "/panier?%00=1",
    ],
)
def test_a_nul_character_in_a_url_is_refused_with_a_french_page(client, db, offer, url):
    before = row_counts(db)

    response = client.get(url)

    assert response.status_code == 400 and NUL_IN_URL in text(response)
    assert unchanged(db, before)


def test_a_nul_character_in_a_course_or_coupon_code_is_refused(client, db, offer):
    before = row_counts(db)
    json_headers = {"Accept": "application/json"}

    by_form = client.post(
        "/panier/ajouter",
        headers=json_headers,
        data={"cours": offer.slug + "\x00", "debut": offer.start().isoformat(), "duree": "60"},
    )
    by_json = client.post(
        "/panier/ajouter", json={"cours": "\x00", "creneaux": [{"debut": offer.start().isoformat(), "duree": 60}]}
    )
    coupon = client.post("/panier/coupon", headers=json_headers, data={"code": "RENTREE\x00"})

    for response in (by_form, by_json, coupon):
        assert response.status_code == 400 and "caractère invalide" in response.get_json()["error"]
    assert unchanged(db, before)


@pytest.mark.parametrize(
    "url, data, field",
    [
        ("/connexion", {"email": "eleve@example.com\x00", "password": "motdepasse-test"}, "email"),
        (
            "/inscription",
            {
                "email": "lea@example.com",
                "first_name": "Léa\x00",
                "last_name": "Tremblay",
                "password": "un-mot-de-passe-long",
                "password_confirm": "un-mot-de-passe-long",
            },
            "first_name",
        ),
    ],
)
def test_a_nul_character_in_a_public_form_is_shown_next_to_the_field(client, db, make, url, data, field):
    make.user(email="eleve@example.com")
    db.session.commit()
    before = row_counts(db)

    response = client.post(url, data=data)

    assert response.status_code == 400
    page = text(response)
    # The message follows the field it is about.
    assert NUL_CHARACTER in page[page.index(f'name="{field}"') :]
    assert unchanged(db, before)


# Bodies


def test_a_json_body_nested_fifty_thousand_levels_is_refused(client, db, offer):
    before = row_counts(db)

    response = client.post("/panier/ajouter", data=DEEP_JSON, content_type="application/json")

    assert response.status_code == 400 and "JSON est mal formé" in response.get_json()["error"]
    assert unchanged(db, before)


@pytest.mark.parametrize("document", [DEEP_JSON, "[" * 40 + "]" * 40, '{"a": "\\ud800"}', b'{"a": "\xff"}'])
def test_json_from_outside_must_be_shallow_valid_unicode(document):
    with pytest.raises(ValueError):
        json_input.load(document)


def test_json_from_outside_may_nest_a_few_levels():
    document = {"data": {"object": {"metadata": {"order_id": "12"}, "charges": [{"id": "ch_1"}]}}}
    assert json_input.load(json.dumps(document).encode()) == document


# The gateway webhook


def _webhook(client, payload, signature):
    headers = {"Content-Type": "application/json", "Stripe-Signature": signature}
    return client.post("/webhooks/stripe", data=payload, headers=headers)


def _signed(gateway, event, timestamp=None):
    payload = json.dumps(event).encode()
    return payload, sign_payload(payload, gateway.secret, timestamp)


def _latin1_signed(gateway):
    # Signed over the raw bytes, the way a sender that does not speak UTF-8 would.
    payload = '{"id": "evt_é", "type": "payment_intent.succeeded"}'.encode("latin-1")
    timestamp = int(time.time())
    mac = hmac.new(gateway.secret.encode(), f"{timestamp}.".encode() + payload, sha256).hexdigest()
    return payload, f"t={timestamp},v1={mac}"


SUCCEEDED = "payment_intent.succeeded"
MALFORMED_EVENTS = {
    "id not a string": {"id": 5, "type": SUCCEEDED},
    "id a list": {"id": ["evt_1"], "type": SUCCEEDED},
    "id of 300 characters": {"id": "e" * 300, "type": SUCCEEDED},
    "NUL in the id": {"id": "evt_\x00", "type": SUCCEEDED},
    "type of 150 characters": {"id": "evt_1", "type": "t" * 150},
    "no type": {"id": "evt_1", "type": None},
    "data not an object": {"id": "evt_1", "type": SUCCEEDED, "data": 5},
    "payment not an object": {"id": "evt_1", "type": SUCCEEDED, "data": {"object": "pi_1"}},
    "payment id a number": {"id": "evt_1", "type": SUCCEEDED, "data": {"object": {"id": 5}}},
    "deep nesting": {"id": "evt_1", "type": SUCCEEDED, "data": json.loads("[" * 40 + "]" * 40)},
}


@pytest.mark.parametrize("name", MALFORMED_EVENTS)
def test_a_signed_but_malformed_event_is_refused_and_recorded_nowhere(client, db, gateway, name):
    before = row_counts(db)

    response = _webhook(client, *_signed(gateway, MALFORMED_EVENTS[name]))

    expected = "Contenu illisible." if name == "deep nesting" else "Événement mal formé."
    assert response.status_code == 400 and response.get_json() == {"error": expected}
    assert unchanged(db, before)


@pytest.mark.parametrize(
    "delivery",
    [
        pytest.param(lambda gateway: _latin1_signed(gateway), id="body not UTF-8"),
        pytest.param(lambda gateway: (b"\xff\xfe{}", "t=1,v1=abc"), id="garbage body"),
        pytest.param(lambda gateway: (b"{}", "t=1,v1=é"), id="non-ASCII signature header"),
        pytest.param(
            lambda gateway: _signed(gateway, {"id": "evt_1", "type": SUCCEEDED}, int(time.time()) + 301),
            id="signed in the future",
        ),
        pytest.param(
            lambda gateway: (DEEP_JSON.encode(), sign_payload(DEEP_JSON, gateway.secret)),
            id="nested fifty thousand levels",
        ),
    ],
)
def test_an_unreadable_or_future_dated_webhook_is_refused(client, db, gateway, delivery):
    before = row_counts(db)

    response = _webhook(client, *delivery(gateway))

    assert response.status_code == 400
    assert response.get_json()["error"] in ("Contenu illisible.", "Signature invalide.")
    assert unchanged(db, before)


def test_an_event_signed_four_minutes_ahead_of_our_clock_is_accepted(client, db, gateway):
    response = _webhook(client, *_signed(gateway, {"id": "evt_1", "type": "charge.updated"}, int(time.time()) + 240))

    assert response.status_code == 200
    assert count(db, GatewayEvent) == 1


def test_a_failed_payment_whose_error_is_not_an_object_gets_the_declined_message(client, db, gateway):
    event = {
        "id": "evt_1",
        "type": "payment_intent.payment_failed",
        "data": {"object": {"id": "pi_inconnu", "last_payment_error": "card_declined"}},
    }

    response = _webhook(client, *_signed(gateway, event))

    assert response.status_code == 200 and count(db, GatewayEvent) == 1


# Back office


@pytest.fixture
def office(db, make, login_as, offer):
    login_as("admin")
    return offer


@pytest.mark.parametrize(
    "url",
    [
        "/admin/cours/?page=-1",
        "/admin/utilisateurs/?page=-1",
        f"/admin/horaires/?page={BIG * BIG}",
        f"/admin/cours/details/?id={BIG}",
        f"/admin/cours/edit/?id={BIG}",
        "/admin/cours/details/?id=%D9%A1",  # an Arabic-Indic one: a digit, but no id
        f"/admin/remboursements/commande/{BIG}",
        f"/admin/rendez-vous/annuler/{BIG}",
        f"/admin/etudiants/credit/{BIG}",
        f"/admin/billets/repondre/{BIG}",
    ],
)
def test_a_page_or_id_out_of_range_in_the_back_office_is_not_found(client, db, office, url):
    response = client.get(url)

    assert response.status_code == 404 and "Page introuvable." in text(response)


@pytest.mark.parametrize(
    "url", ["/admin/cours/?search=a%00b", "/admin/utilisateurs/?search=%00", "/admin/conges/?flt0_0=%00"]
)
def test_a_nul_character_in_a_back_office_search_is_refused(client, office, url):
    response = client.get(url)

    assert response.status_code == 400 and NUL_IN_URL in text(response)


@pytest.mark.parametrize(
    "url",
    [
        f"/admin/horaires/?flt0_0={BIG}",
        "/admin/conges/?flt0_1=9999-12-31",
        "/admin/conges/?flt0_3=9999-12-31",
        "/admin/exceptions/?flt0_1=0001-01-01",
    ],
)
def test_a_list_filter_out_of_range_is_ignored_with_a_french_message(client, office, url):
    response = client.get(url)

    assert response.status_code == 200
    assert "Valeur de filtre invalide" in text(response)


def test_bulk_delete_removes_the_selected_rows(client, db, office):
    rules = db.session.scalars(select(WeeklyRule.id).where(WeeklyRule.weekday == 0)).all()
    before = count(db, WeeklyRule)

    response = client.post("/admin/horaires/action/", data={"action": "delete", "rowid": [str(i) for i in rules]})

    assert response.status_code == 302
    db.session.expire_all()
    assert count(db, WeeklyRule) == before - 2
    assert count(db, WeeklyRule, WeeklyRule.id.in_(rules)) == 0


@pytest.mark.parametrize("rowid", ["abc", str(BIG), "-1", "\u0661", ""])
def test_bulk_delete_of_ids_that_cannot_exist_deletes_nothing(client, db, office, rowid):
    before = row_counts(db)

    response = client.post("/admin/horaires/action/", data={"action": "delete", "rowid": [rowid]})

    assert response.status_code in (302, 400)
    assert unchanged(db, before)


def test_a_row_others_depend_on_is_kept_with_a_french_message(app, db, office):
    view = next(v for v in app.extensions["admin"][0]._views if getattr(v, "endpoint", None) == "weekly_rules")
    with app.test_request_context():
        assert view.handle_view_exception(IntegrityError("DELETE", {}, Exception("foreign key"))) is True
        assert get_flashed_messages() == [IN_USE]


@pytest.mark.parametrize(
    "url, data, message",
    [
        (
            "/admin/cours/new/",
            {"title": "Chimie", "full_name": "Chimie générale", "slug": "chimie", "rate_cents": "1e308"},
            AMOUNT_TOO_LARGE,
        ),
        (
            "/admin/cours/new/",
            {"title": "Chimie", "full_name": "Chimie générale", "slug": "chimie", "rate_cents": "21474836,48"},
            AMOUNT_TOO_LARGE,
        ),
        (
            "/admin/cours/new/",
            {"title": "Chimie\x00", "full_name": "Chimie générale", "slug": "chimie", "rate_cents": "45"},
            NUL_CHARACTER,
        ),
        (
            "/admin/cours/new/",
            {"title": "Chimie", "full_name": "Chimie générale", "slug": "chi\x00mie", "rate_cents": "45"},
            NUL_CHARACTER,
        ),
        (
            "/admin/coupons/new/",
            {"code": "GROS", "kind": "fixed", "value": "1000", "max_redemptions": str(BIG)},
            NUMBER_TOO_LARGE,
        ),
        ("/admin/conges/new/", {"starts_at": "9999-12-31 23:00", "ends_at": "9999-12-31 23:30"}, YEAR_OUT_OF_RANGE),
        ("/admin/conges/new/", {"starts_at": "0001-01-01 00:00", "ends_at": "0001-01-01 01:00"}, YEAR_OUT_OF_RANGE),
        ("/admin/exceptions/new/", {"date": "0001-01-01", "kind": "closed"}, YEAR_OUT_OF_RANGE),
        ("/admin/exceptions/new/", {"date": "9999-12-31", "kind": "closed"}, YEAR_OUT_OF_RANGE),
    ],
)
def test_a_back_office_form_refuses_what_no_column_can_store(client, db, office, url, data, message):
    before = row_counts(db)

    response = client.post(url, data={"tutor": str(office.best.id), **data})

    assert response.status_code == 200 and message in text(response)
    assert unchanged(db, before)


@pytest.mark.parametrize(
    "url, field",
    [
        ("/admin/cours/new/", "rate_cents"),
        ("/admin/tuteurs/new/", "hourly_rate_cents"),
    ],
)
def test_an_hourly_rate_whose_sessions_would_not_fit_in_cents_is_refused(client, db, office, url, field):
    # 21 474 836,47 $ fits in a column, but two hours of it would not.
    data = {
        "title": "Chimie",
        "full_name": "Chimie générale",
        "slug": "chimie",
        "display_name": "Marie Curie",
        "user": str(office.best.user_id),
        field: "21474836,47",
    }
    before = row_counts(db)

    response = client.post(url, data=data)

    assert response.status_code == 200
    assert f"Le taux horaire ne peut pas dépasser {money(MAX_HOURLY_RATE_CENTS)}." in text(response)
    assert unchanged(db, before)


@pytest.mark.parametrize("amount", ["1e308", "21474836,48", "-1e308"])
def test_a_credit_adjustment_beyond_what_cents_can_hold_is_refused(client, db, make, office, amount):
    student = make.user()
    db.session.commit()
    before = row_counts(db)

    response = client.post(
        f"/admin/etudiants/credit/{student.id}",
        data={"direction": "credit", "amount": amount, "reason": "Geste commercial"},
    )

    assert response.status_code == 400 and AMOUNT_TOO_LARGE in text(response)
    assert unchanged(db, before)


def test_a_payout_confirmation_with_a_nul_character_is_refused(client, db, make, office):
    before = row_counts(db)

    response = client.post(
        "/admin/paiements-tuteurs/payer",
        data={
            "tutor": str(office.best.id),
            "month": "2020-01",
            "confirmation_number": "VIR\x00",
            "paid_on": "2020-02-01",
        },
    )

    assert response.status_code == 400 and NUL_CHARACTER in text(response)
    assert unchanged(db, before)


def test_a_return_address_with_a_line_break_is_refused_in_the_back_office(client, db, office):
    before = row_counts(db)

    response = client.post("/admin/horaires/action/", data={"action": "delete", "rowid": ["1"], "url": "/admin/\r\n"})

    assert response.status_code == 400 and "Requête invalide." in text(response)
    assert unchanged(db, before)


def test_a_next_address_with_a_line_break_sends_a_signed_in_user_to_their_landing_page(client, login_as):
    login_as("student")

    response = client.get("/connexion?next=/panier%0D%0ASet-Cookie:%20x=1")

    assert response.status_code == 302 and response.headers["Location"] == "/tableau-de-bord"


def test_a_remember_me_cookie_this_site_cannot_have_set_is_forgotten(client):
    client.set_cookie("remember_token", "1|signé")

    response = client.get("/tableau-de-bord")

    assert response.status_code == 302 and response.headers["Location"].startswith("/connexion")
    assert client.get_cookie("remember_token") is None

"""HTTP wiring of the cart: adding, removing, holding again, coupons, the login merge and CSRF."""

import hashlib
import os
from datetime import timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select, update

from tutoradmin import cart as carts
from tutoradmin.localtime import LOCAL_TZ
from tutoradmin.models import Cart, CartItem, Hold, utcnow
from tutoradmin.slots import BookingRules

from .booking_requests import SLOT_TAKEN, add_form, add_json, count, course_offer, flashes, written

RULES = BookingRules()


@pytest.fixture
def offer(db, make):
    return course_offer(db, make)


# Adding to the cart


def test_a_json_add_holds_the_slot_for_the_best_tutor_at_the_course_price(client, db, offer):
    response = add_json(client, offer, duration=90, prix_cents=1, prix="0,01 $")
    assert response.status_code == 200
    assert response.get_json() == {"ok": True, "ajoutes": 1, "redirect": "/panier"}
    item = db.session.scalars(select(CartItem)).one()
    assert (item.tutor_id, item.price_cents, item.starts_at) == (offer.best.id, 6750, offer.start())
    assert item.hold.expires_at - item.hold.created_at == timedelta(minutes=15)
    assert written(db) == (1, 1, 1, 3)


def test_a_json_add_with_a_chosen_tutor_gets_that_tutor(client, db, offer):
    assert add_json(client, offer, tutor=offer.other.id).status_code == 200
    assert db.session.scalars(select(CartItem.tutor_id)).one() == offer.other.id


def test_several_slots_in_one_json_request_are_added_together(client, db, offer):
    body = {
        "cours": offer.slug,
        "creneaux": [
            {"debut": offer.start(9).isoformat(), "duree": 60},
            {"debut": offer.start(13).isoformat(), "duree": 120},
            {"debut": offer.start(9, days=1).isoformat(), "duree": "90"},
        ],
    }
    response = client.post("/panier/ajouter", json=body)
    assert response.status_code == 200 and response.get_json()["ajoutes"] == 3
    assert written(db) == (1, 3, 3, 2 + 4 + 3)


def test_a_json_request_with_one_refused_slot_writes_nothing(client, db, offer):
    add_json(client, offer, start=offer.start(13))
    before = written(db)
    body = {
        "cours": offer.slug,
        "creneaux": [
            {"debut": offer.start(9).isoformat(), "duree": 60},
            {"debut": offer.start(13, 30).isoformat(), "duree": 60},  # overlaps the 13:00 in the cart
        ],
    }
    response = client.post("/panier/ajouter", json=body)
    assert response.status_code == 409
    assert response.get_json() == {"error": "Ce créneau chevauche une séance déjà choisie."}
    assert written(db) == before


BAD_ADDS = [
    ({"cours": "francais-secondaire", "creneaux": [{"debut": "{start}", "duree": 45}]}, 400, "Durée invalide"),
    ({"cours": "francais-secondaire", "creneaux": [{"debut": "{start}", "duree": 60.5}]}, 400, "Durée invalide"),
    ({"cours": "francais-secondaire", "creneaux": [{"debut": "{start}"}]}, 400, "Durée invalide"),
    ({"cours": "francais-secondaire", "creneaux": [{"duree": 60}]}, 400, "L'heure de début est obligatoire."),
    (
        {"cours": "francais-secondaire", "creneaux": [{"debut": "lundi 9h", "duree": 60}]},
        400,
        "Heure de début invalide",
    ),
    (
        {"cours": "francais-secondaire", "creneaux": [{"debut": "2026-12-07T09:00:00", "duree": 60}]},
        400,
        "L'heure de début doit préciser son fuseau horaire.",
    ),
    (
        {"cours": "francais-secondaire", "creneaux": [{"debut": "9999-12-31T23:30:00+00:00", "duree": 120}]},
        400,
        "Heure de début invalide",
    ),
    (
        {"cours": "francais-secondaire", "creneaux": [{"debut": "0001-01-01T00:00:00+05:00", "duree": 60}]},
        400,
        "Heure de début invalide",
    ),
    ({"cours": "francais-secondaire", "creneaux": []}, 400, "Aucun créneau choisi."),
    ({"cours": "francais-secondaire", "creneaux": "{start}"}, 400, "Requête invalide"),
    ({"cours": "francais-secondaire", "creneaux": ["{start}"]}, 400, "Requête invalide"),
    ({"cours": "francais-secondaire"}, 400, "Requête invalide"),
    ({"creneaux": [{"debut": "{start}", "duree": 60}]}, 400, "Le cours est obligatoire."),
    (
        {"cours": "francais-secondaire", "tuteur": "abc", "creneaux": [{"debut": "{start}", "duree": 60}]},
        400,
        "Identifiant de tuteur invalide.",
    ),
    (
        {"cours": "francais-secondaire", "tuteur": True, "creneaux": [{"debut": "{start}", "duree": 60}]},
        400,
        "Identifiant de tuteur invalide.",
    ),
    ({"cours": "inconnu", "creneaux": [{"debut": "{start}", "duree": 60}]}, 404, "Cours introuvable."),
    (
        {"cours": "francais-secondaire", "tuteur": 999999, "creneaux": [{"debut": "{start}", "duree": 60}]},
        404,
        "Ce tuteur n'enseigne pas ce cours.",
    ),
]


def test_bad_json_adds_get_a_clear_status_and_write_nothing(client, db, offer):
    def fill(value):
        if isinstance(value, str):
            return value.replace("{start}", offer.start().isoformat())
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    for body, status, message in BAD_ADDS:
        response = client.post("/panier/ajouter", json=fill(body))
        assert response.status_code == status, body
        assert message in response.get_json()["error"], body
    response = client.post("/panier/ajouter", data="{pas du json", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json() == {"error": "Requête invalide : le corps JSON est mal formé."}
    assert written(db) == (0, 0, 0, 0)


def test_slots_outside_the_rules_are_refused_with_409(client, db, offer):
    now = utcnow()
    for start in (
        offer.start() - timedelta(days=14),  # past
        now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=2),  # under the lead time
        offer.start(days=61),  # past the horizon
        offer.start(9, 15),  # off the grid
        offer.start(17),  # after the tutors' hours
    ):
        response = add_json(client, offer, start=start)
        assert response.status_code == 409, start
        assert response.get_json() == {"error": SLOT_TAKEN}
    assert written(db) == (0, 0, 0, 0)


def test_a_duplicate_json_add_is_a_409_that_says_so(client, db, offer):
    add_json(client, offer)
    response = add_json(client, offer)
    assert response.status_code == 409
    assert response.get_json() == {"error": "Cet élément est déjà dans votre panier"}
    assert written(db) == (1, 1, 1, 2)


def test_a_slot_held_by_another_visitor_is_gone_from_the_api_and_refused(app, client, db, offer):
    other = app.test_client()
    assert add_json(other, offer, tutor=offer.best.id).status_code == 200
    # That tutor no longer offers 9:00 (nor 8:30, which would overlap it); the other tutor still does.
    response = client.get(
        f"/api/cours/{offer.slug}/creneaux",
        query_string={"date": offer.day.isoformat(), "duree": 60, "tuteur": offer.best.id},
    )
    starts = [s["debut"] for s in response.get_json()["creneaux"]]
    assert offer.start(9).astimezone(LOCAL_TZ).isoformat() not in starts
    assert offer.start(8, 30).astimezone(LOCAL_TZ).isoformat() not in starts
    assert offer.start(10).astimezone(LOCAL_TZ).isoformat() in starts
    response = add_json(client, offer, tutor=offer.best.id)
    assert response.status_code == 409 and response.get_json() == {"error": SLOT_TAKEN}
    # Without a tutor chosen, the other tutor gets it.
    assert add_json(client, offer).status_code == 200
    assert db.session.scalars(select(CartItem.tutor_id).order_by(CartItem.id)).all() == [offer.best.id, offer.other.id]


def test_a_form_add_redirects_to_the_cart_with_a_message(client, db, offer):
    response = add_form(client, offer)
    assert response.status_code == 302 and response.headers["Location"] == "/panier"
    assert flashes(client) == ["Séance ajoutée au panier."]
    page = client.get("/panier").get_data(as_text=True)
    assert "45,00" in page
    assert written(db) == (1, 1, 1, 2)


def test_a_refused_form_add_goes_back_with_a_message_and_writes_nothing(client, db, offer):
    booking_page = f"http://localhost/cours/{offer.slug}/reservation"
    for fields, message in (
        ({"duree": "45"}, "Durée invalide : choisissez 60, 90 ou 120 minutes."),
        ({"debut": ""}, "L'heure de début est obligatoire."),
        ({"cours": ""}, "Le cours est obligatoire."),
        ({"cours": "inconnu"}, "Cours introuvable."),
        ({"tuteur": "999999"}, "Ce tuteur n'enseigne pas ce cours."),
        ({"debut": offer.start(7).isoformat()}, SLOT_TAKEN),
    ):
        response = client.post(
            "/panier/ajouter",
            data={"cours": offer.slug, "debut": offer.start().isoformat(), "duree": "60", **fields},
            headers={"Referer": booking_page},
        )
        assert response.status_code == 302 and response.headers["Location"] == booking_page
        assert flashes(client) == [message]
    assert written(db) == (0, 0, 0, 0)


def test_a_refused_form_add_never_goes_back_to_another_site(client, db, offer):
    response = client.post("/panier/ajouter", data={"cours": "inconnu"}, headers={"Referer": "https://evil.example/x"})
    assert response.status_code == 302 and response.headers["Location"] == "/cours"


# Removing, holding again, coupons


def test_a_guest_removes_an_item_and_its_hold_goes_at_once(client, db, offer):
    add_json(client, offer)
    item_id = db.session.scalars(select(CartItem.id)).one()
    response = client.post(f"/panier/retirer/{item_id}", headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.get_json() == {"ok": True}
    assert written(db) == (1, 0, 0, 0)


def test_a_student_removes_an_item_with_the_form(client, db, offer, make, login):
    login(make.user())
    add_form(client, offer)
    item_id = db.session.scalars(select(CartItem.id)).one()
    response = client.post(f"/panier/retirer/{item_id}")
    assert response.status_code == 302 and flashes(client)[-1] == "Séance retirée du panier."
    assert written(db)[1:] == (0, 0, 0)


def test_someone_elses_item_is_not_found(app, client, db, offer, make, login):
    owner = app.test_client()
    add_json(owner, offer)
    item_id = db.session.scalars(select(CartItem.id)).one()
    for visitor in ("guest", "student"):
        if visitor == "student":
            login(make.user())
        response = client.post(f"/panier/retirer/{item_id}", headers={"Accept": "application/json"})
        assert response.status_code == 404
        assert response.get_json() == {"error": "Élément introuvable"}
        response = client.post(f"/panier/retirer/{item_id}")
        assert response.status_code == 302 and flashes(client)[-1] == "Élément introuvable"
    assert written(db) == (1, 1, 1, 2)


def test_an_expired_item_is_shown_and_can_be_held_again(client, db, offer):
    add_json(client, offer)
    past = utcnow() - timedelta(minutes=1)
    db.session.execute(update(Hold).values(created_at=past - timedelta(minutes=15), expires_at=past))
    db.session.commit()

    page = client.get("/panier").get_data(as_text=True)
    assert "Réservations expirées" in page and "Réserver de nouveau" in page
    item_id = db.session.scalars(select(CartItem.id)).one()
    response = client.post(f"/panier/retenir/{item_id}")
    assert response.status_code == 302
    assert flashes(client)[-1] == "La séance est de nouveau réservée pour vous."
    db.session.expire_all()
    assert db.session.get(CartItem, item_id).hold.expires_at > utcnow() + timedelta(minutes=14)
    assert count(db, Hold) == 1


def test_a_guest_applies_a_coupon_in_any_case(client, db, offer, make):
    make.coupon(code="RENTREE", kind="percent", value=10)
    db.session.commit()
    add_form(client, offer)
    response = client.post("/panier/coupon", data={"code": "rentree"})
    assert response.status_code == 302 and flashes(client)[-1] == "Code promo RENTREE appliqué."
    page = client.get("/panier").get_data(as_text=True)
    assert "4,50" in page and "40,50" in page


def test_a_refused_coupon_says_why(client, db, offer, make):
    make.coupon(code="FINI", active=False)
    db.session.commit()
    for code, message in (("fini", "Ce code promo n'est plus actif."), ("nope", "Ce code promo n'existe pas.")):
        response = client.post("/panier/coupon", data={"code": code}, headers={"Accept": "application/json"})
        assert response.status_code == 400 and response.get_json() == {"error": message}
    assert db.session.scalar(select(Cart.coupon_id)) is None


# Login merges the guest cart


def test_logging_in_keeps_the_guest_cart_and_says_what_was_dropped(client, db, offer, make, login):
    user = make.user()
    own = make.coupon(code="GUEST5")
    db.session.commit()
    # The student already holds 9:00 in their own cart, from another browser.
    own_cart = carts.get_or_create_cart(user=user)
    carts.add_slots(own_cart, [carts.SlotRequest(offer.course, offer.start(9), 60, offer.best.id)], utcnow(), RULES)
    db.session.commit()

    assert add_json(client, offer, tutor=offer.other.id).status_code == 200  # the same session again
    assert add_json(client, offer, start=offer.start(13)).status_code == 200
    assert client.post("/panier/coupon", data={"code": own.code}).status_code == 302
    login(user)

    assert any("1 séance(s) de votre panier n'ont pas été conservées" in m for m in flashes(client))
    db.session.expire_all()
    [cart] = db.session.scalars(select(Cart)).all()
    assert cart.id == own_cart.id
    assert [(i.starts_at, i.tutor_id) for i in cart.items] == [
        (offer.start(9), offer.best.id),
        (offer.start(13), offer.best.id),
    ]
    assert cart.coupon.code == "GUEST5"
    assert written(db) == (1, 2, 2, 4)


# CSRF


def _csrf_token(client, app):
    raw = hashlib.sha1(os.urandom(64)).hexdigest()
    with client.session_transaction() as session:
        session["csrf_token"] = raw
    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)


def _guest_cart_with_an_item(client, db, offer):
    """A guest cart tied to the client's session, filled without going through a POST."""
    with client.session_transaction() as session:
        session["cart_key"] = "invite-csrf"
    cart = carts.get_or_create_cart(session_key="invite-csrf")
    [item] = carts.add_slots(cart, [carts.SlotRequest(offer.course, offer.start(9), 60)], utcnow(), RULES)
    db.session.commit()
    return item


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_cart_posts_without_a_csrf_token_are_refused(client, db, offer, make):
    item = _guest_cart_with_an_item(client, db, offer)
    make.coupon(code="PROMO")
    db.session.commit()
    before = written(db)
    form = {"cours": offer.slug, "debut": offer.start(13).isoformat(), "duree": "60", "code": "PROMO"}
    for path in (
        "/panier/ajouter",
        f"/panier/retirer/{item.id}",
        f"/panier/retenir/{item.id}",
        "/panier/coupon",
        "/panier/coupon/retirer",
    ):
        assert client.post(path, data=form).status_code == 400, path
        assert client.post(path, data={**form, "csrf_token": "faux"}).status_code == 400, path
    response = client.post(
        "/panier/ajouter",
        json={"cours": offer.slug, "creneaux": [{"debut": form["debut"], "duree": 60}]},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400 and response.get_json()["error"]
    assert written(db) == before
    assert db.session.scalar(select(Cart.coupon_id)) is None


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_a_json_add_refused_before_the_route_still_gets_json_without_an_accept_header(client, db, offer):
    response = client.post("/panier/ajouter", json={"cours": offer.slug, "creneaux": []})
    assert response.status_code == 400
    assert response.get_json() == {"error": "Le formulaire a expiré. Veuillez recharger la page et réessayer."}


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_cart_posts_with_a_csrf_token_go_through(app, client, db, offer):
    item = _guest_cart_with_an_item(client, db, offer)
    token = _csrf_token(client, app)
    assert add_form(client, offer, start=offer.start(11), csrf_token=token).status_code == 302
    response = client.post(
        "/panier/ajouter",
        json={"cours": offer.slug, "creneaux": [{"debut": offer.start(13).isoformat(), "duree": 60}]},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert written(db) == (1, 3, 3, 6)
    assert client.post(f"/panier/retirer/{item.id}", data={"csrf_token": token}).status_code == 302
    assert written(db) == (1, 2, 2, 4)

"""HTTP wiring of the slot API and the cart: statuses, French messages, and nothing written on refusal."""

import hashlib
import os
from datetime import time, timedelta
from types import SimpleNamespace

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select, update

from tutoradmin import cart as carts
from tutoradmin.models import Cart, CartItem, Hold, SlotLock, utcnow
from tutoradmin.slots import LOCAL_TZ, BookingRules, local_instant

SLOT_TAKEN = "Ce créneau n'est plus disponible"
RULES = BookingRules()


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def written(db):
    return count(db, Cart), count(db, CartItem), count(db, Hold), count(db, SlotLock)


@pytest.fixture
def offer(db, make):
    """A course with two tutors free every day from 9:00 to 17:00, and a day a week ahead."""
    course = make.course(slug="francais-secondaire", rate_cents=4500)
    tutors = []
    for priority, name in ((1, "Alice Premier"), (2, "Bruno Second")):
        tutor = make.tutor(courses=[course], priority=priority, display_name=name)
        for weekday in range(7):
            make.weekly_rule(tutor, weekday=weekday, start=time(9), end=time(17))
        tutors.append(tutor)
    db.session.commit()
    day = (utcnow().astimezone(LOCAL_TZ) + timedelta(days=7)).date()
    return SimpleNamespace(
        course=course,
        slug=course.slug,
        best=tutors[0],
        other=tutors[1],
        day=day,
        start=lambda hour=9, minute=0, days=0: local_instant(day + timedelta(days=days), time(hour, minute)),
    )


def add_json(client, offer, start=None, duration=60, tutor=None, **extra):
    body = {"cours": offer.slug, "creneaux": [{"debut": (start or offer.start()).isoformat(), "duree": duration}]}
    if tutor is not None:
        body["tuteur"] = tutor
    body.update(extra)
    return client.post("/panier/ajouter", json=body, headers={"Accept": "application/json"})


def add_form(client, offer, start=None, duration=60, **extra):
    data = {"cours": offer.slug, "debut": (start or offer.start()).isoformat(), "duree": str(duration)}
    data.update(extra)
    return client.post("/panier/ajouter", data=data)


def flashes(client):
    """The messages flashed since the last call (taken out of the session, as a page would)."""
    with client.session_transaction() as session:
        return [message for _, message in session.pop("_flashes", [])]


# Slot API


def test_day_slots_hide_which_tutor_has_them(client, offer):
    response = client.get(f"/api/cours/{offer.slug}/creneaux", query_string={"date": offer.day.isoformat(), "duree": 90})
    assert response.status_code == 200
    data = response.get_json()
    assert data["duree"] == 90 and data["date"] == offer.day.isoformat()
    first = data["creneaux"][0]
    assert first["debut"] == offer.start().astimezone(LOCAL_TZ).isoformat()
    assert (first["duree"], first["prix_cents"]) == (90, 6750)
    assert len(data["creneaux"]) == 14  # 9:00 … 15:30, once each although two tutors are free
    body = response.get_data(as_text=True)
    assert "tuteur" not in body and "Alice" not in body and "Bruno" not in body


def test_day_slots_of_a_chosen_tutor_name_that_tutor(client, offer):
    response = client.get(
        f"/api/cours/{offer.slug}/creneaux",
        query_string={"date": offer.day.isoformat(), "duree": 60, "tuteur": offer.other.id},
    )
    assert response.status_code == 200
    assert {s["tuteur_id"] for s in response.get_json()["creneaux"]} == {offer.other.id}


def test_month_days_list_the_days_with_slots(client, offer):
    response = client.get(f"/api/cours/{offer.slug}/disponibilites",
                          query_string={"mois": offer.day.strftime("%Y-%m"), "duree": 120})
    assert response.status_code == 200
    assert offer.day.isoformat() in response.get_json()["jours"]


def test_bad_slot_parameters_get_a_400_in_french(client, offer):
    day = offer.day.isoformat()
    cases = [
        ("creneaux", {"duree": 60}, "Le paramètre « date » est obligatoire"),
        ("creneaux", {"date": "2026-13-01", "duree": 60}, "Date invalide"),
        ("creneaux", {"date": "demain", "duree": 60}, "Date invalide"),
        ("creneaux", {"date": day, "duree": 45}, "Durée invalide : choisissez 60, 90 ou 120 minutes."),
        ("creneaux", {"date": day, "duree": "1h"}, "Durée invalide"),
        ("creneaux", {"date": day}, "Durée invalide"),
        ("creneaux", {"date": day, "duree": 60, "tuteur": "abc"}, "Identifiant de tuteur invalide."),
        ("creneaux", {"date": day, "duree": 60, "tuteur": "-3"}, "Identifiant de tuteur invalide."),
        ("disponibilites", {"duree": 60}, "Le paramètre « mois » est obligatoire"),
        ("disponibilites", {"mois": "2026-1", "duree": 60}, "Mois invalide"),
        ("disponibilites", {"mois": "2026/12", "duree": 60}, "Mois invalide"),
        ("disponibilites", {"mois": "décembre", "duree": 60}, "Mois invalide"),
        ("disponibilites", {"mois": "2026-00", "duree": 60}, "Mois invalide"),
        ("disponibilites", {"mois": day[:7], "duree": 30}, "Durée invalide"),
    ]
    for path, params, message in cases:
        response = client.get(f"/api/cours/{offer.slug}/{path}", query_string=params)
        assert response.status_code == 400, params
        assert message in response.get_json()["error"], params


def test_days_and_months_outside_the_booking_window_have_no_slots(client, offer):
    for days in (-37, -8, 55, 365 * 900):  # from a week ahead: past, today, past the horizon, far away
        day = offer.day + timedelta(days=days)
        response = client.get(f"/api/cours/{offer.slug}/creneaux", query_string={"date": day.isoformat(), "duree": 60})
        assert response.status_code == 200 and response.get_json()["creneaux"] == [], day
    for months in (-2, 3, 12 * 900):
        month = offer.day.year * 12 + offer.day.month - 1 + months
        mois = f"{month // 12}-{month % 12 + 1:02d}"
        response = client.get(f"/api/cours/{offer.slug}/disponibilites", query_string={"mois": mois, "duree": 60})
        assert response.status_code == 200 and response.get_json()["jours"] == [], mois


def test_extreme_dates_are_refused_cleanly(client, offer):
    for date in ("9999-12-31", "0001-01-01"):
        for url, params in (
            (f"/api/cours/{offer.slug}/creneaux", {"date": date, "duree": 60}),
            (f"/api/cours/{offer.slug}/disponibilites", {"mois": date[:7], "duree": 60}),
            (f"/cours/{offer.slug}/reservation", {"date": date, "duree": 60}),
            (f"/cours/{offer.slug}/reservation", {"mois": date[:7], "duree": 60}),
        ):
            response = client.get(url, query_string=params)
            assert response.status_code == 400, (url, params)
            text = response.get_data(as_text=True)
            assert "Date invalide" in text or "Mois invalide" in text


def test_an_unknown_or_inactive_course_is_a_json_404(client, db, make):
    make.course(slug="retire", active=False)
    db.session.commit()
    for slug in ("inconnu", "retire"):
        for path in ("creneaux?date=2026-12-07&duree=60", "disponibilites?mois=2026-12&duree=60"):
            response = client.get(f"/api/cours/{slug}/{path}")
            assert response.status_code == 404
            assert response.get_json() == {"error": "Page introuvable."}


def test_a_tutor_who_does_not_teach_the_course_is_a_json_404(client, offer, make, db):
    outsider = make.tutor(courses=[make.course()])
    db.session.commit()
    for tutor_id in (outsider.id, 999999):
        response = client.get(f"/api/cours/{offer.slug}/creneaux",
                              query_string={"date": offer.day.isoformat(), "duree": 60, "tuteur": tutor_id})
        assert response.status_code == 404
        assert response.get_json() == {"error": "Ce tuteur n'enseigne pas ce cours."}


def test_the_booking_page_refuses_bad_input_in_french(client, offer):
    assert client.get(f"/cours/{offer.slug}/reservation?duree=45").status_code == 400
    assert "Durée invalide" in client.get(f"/cours/{offer.slug}/reservation?duree=45").get_data(as_text=True)
    assert client.get(f"/cours/{offer.slug}/reservation?tuteur=999999").status_code == 404
    assert client.get("/cours/inconnu/reservation").status_code == 404


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
    body = {"cours": offer.slug, "creneaux": [
        {"debut": offer.start(9).isoformat(), "duree": 60},
        {"debut": offer.start(13).isoformat(), "duree": 120},
        {"debut": offer.start(9, days=1).isoformat(), "duree": "90"},
    ]}
    response = client.post("/panier/ajouter", json=body)
    assert response.status_code == 200 and response.get_json()["ajoutes"] == 3
    assert written(db) == (1, 3, 3, 2 + 4 + 3)


def test_a_json_request_with_one_refused_slot_writes_nothing(client, db, offer):
    add_json(client, offer, start=offer.start(13))
    before = written(db)
    body = {"cours": offer.slug, "creneaux": [
        {"debut": offer.start(9).isoformat(), "duree": 60},
        {"debut": offer.start(13, 30).isoformat(), "duree": 60},  # overlaps the 13:00 in the cart
    ]}
    response = client.post("/panier/ajouter", json=body)
    assert response.status_code == 409
    assert response.get_json() == {"error": "Ce créneau chevauche une séance déjà choisie."}
    assert written(db) == before


BAD_ADDS = [
    ({"cours": "francais-secondaire", "creneaux": [{"debut": "{start}", "duree": 45}]}, 400, "Durée invalide"),
    ({"cours": "francais-secondaire", "creneaux": [{"debut": "{start}", "duree": 60.5}]}, 400, "Durée invalide"),
    ({"cours": "francais-secondaire", "creneaux": [{"debut": "{start}"}]}, 400, "Durée invalide"),
    ({"cours": "francais-secondaire", "creneaux": [{"duree": 60}]}, 400, "L'heure de début est obligatoire."),
    ({"cours": "francais-secondaire", "creneaux": [{"debut": "lundi 9h", "duree": 60}]}, 400, "Heure de début invalide"),
    ({"cours": "francais-secondaire", "creneaux": [{"debut": "2026-12-07T09:00:00", "duree": 60}]}, 400,
     "L'heure de début doit préciser son fuseau horaire."),
    ({"cours": "francais-secondaire", "creneaux": [{"debut": "9999-12-31T23:30:00+00:00", "duree": 120}]}, 400,
     "Heure de début invalide"),
    ({"cours": "francais-secondaire", "creneaux": [{"debut": "0001-01-01T00:00:00+05:00", "duree": 60}]}, 400,
     "Heure de début invalide"),
    ({"cours": "francais-secondaire", "creneaux": []}, 400, "Aucun créneau choisi."),
    ({"cours": "francais-secondaire", "creneaux": "{start}"}, 400, "Requête invalide"),
    ({"cours": "francais-secondaire", "creneaux": ["{start}"]}, 400, "Requête invalide"),
    ({"cours": "francais-secondaire"}, 400, "Requête invalide"),
    ({"creneaux": [{"debut": "{start}", "duree": 60}]}, 400, "Le cours est obligatoire."),
    ({"cours": "francais-secondaire", "tuteur": "abc", "creneaux": [{"debut": "{start}", "duree": 60}]}, 400,
     "Identifiant de tuteur invalide."),
    ({"cours": "francais-secondaire", "tuteur": True, "creneaux": [{"debut": "{start}", "duree": 60}]}, 400,
     "Identifiant de tuteur invalide."),
    ({"cours": "inconnu", "creneaux": [{"debut": "{start}", "duree": 60}]}, 404, "Cours introuvable."),
    ({"cours": "francais-secondaire", "tuteur": 999999, "creneaux": [{"debut": "{start}", "duree": 60}]}, 404,
     "Ce tuteur n'enseigne pas ce cours."),
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
        offer.start() - timedelta(days=14),                                   # past
        now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=2),  # under the lead time
        offer.start(days=61),                                                 # past the horizon
        offer.start(9, 15),                                                   # off the grid
        offer.start(17),                                                      # after the tutors' hours
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
    response = client.get(f"/api/cours/{offer.slug}/creneaux",
                          query_string={"date": offer.day.isoformat(), "duree": 60, "tuteur": offer.best.id})
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

    assert add_json(client, offer, tutor=offer.other.id).status_code == 200   # the same session again
    assert add_json(client, offer, start=offer.start(13)).status_code == 200
    assert client.post("/panier/coupon", data={"code": own.code}).status_code == 302
    login(user)

    assert any("1 séance(s) de votre panier n'ont pas été conservées" in m for m in flashes(client))
    db.session.expire_all()
    [cart] = db.session.scalars(select(Cart)).all()
    assert cart.id == own_cart.id
    assert [(i.starts_at, i.tutor_id) for i in cart.items] == [(offer.start(9), offer.best.id), (offer.start(13), offer.best.id)]
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
    for path in ("/panier/ajouter", f"/panier/retirer/{item.id}", f"/panier/retenir/{item.id}", "/panier/coupon",
                 "/panier/coupon/retirer"):
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


def test_the_calendar_opens_on_the_next_month_when_this_one_has_nothing_left(app, client, make, db):
    from datetime import date, time

    from tutoradmin.booking import opening_month
    from tutoradmin.slots import BookingRules, local_instant

    course = make.course()
    tutor = make.tutor(courses=[course])
    for weekday in range(7):
        make.weekly_rule(tutor, weekday=weekday, start=time(9), end=time(12))
    db.session.commit()
    rules = BookingRules()
    # 01:00 on 31 January: the earliest start is 13:00, after that day's hours.
    late = local_instant(date(2027, 1, 31), time(1))
    month, days = opening_month(course, 60, late, rules)
    assert month == date(2027, 2, 1) and days[0] == date(2027, 2, 1)
    # Earlier in the month the calendar stays on the current month.
    month, days = opening_month(course, 60, local_instant(date(2027, 1, 10), time(1)), rules)
    assert month == date(2027, 1, 1) and days[0] == date(2027, 1, 11)

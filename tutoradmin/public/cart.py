"""Cart pages: add slots (form or JSON), remove, hold again, coupons."""

import secrets

from flask import current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user

from .. import cart as carts
from .. import checkout as checkouts
from .. import json_input
from ..booking_cache import mark_fresh
from ..error_pages import wants_json
from ..extensions import db
from ..models import utcnow
from ..offers import bookable_offer
from ..params import ParamError, parse_duration, parse_optional_id, parse_start, parse_text
from ..slots import BookingRules
from .blueprint import bp

GUEST_CART_KEY = "cart_key"


def _owner(create=False):
    """Who the visitor's cart belongs to (user or session_key); `create` gives a guest a cart key first."""
    if create and not current_user.is_authenticated and not session.get(GUEST_CART_KEY):
        session[GUEST_CART_KEY] = secrets.token_urlsafe(24)
    if current_user.is_authenticated:
        return {"user": current_user}
    return {"session_key": session.get(GUEST_CART_KEY)}


def current_cart(create=False):
    """The visitor's cart: the user's, or the guest's tied to this browser session."""
    owner = _owner(create)
    return carts.get_or_create_cart(**owner) if create else carts.find_cart(**owner)


def _slot_requests():
    """Slot requests from a JSON body ({"cours", "tuteur", "creneaux": [{"debut", "duree"}]}) or a form."""
    if request.is_json:
        try:
            data = json_input.load(request.get_data())
        except ValueError as exc:
            raise ParamError("Requête invalide : le corps JSON est mal formé.") from exc
    else:
        data = {
            "cours": request.form.get("cours"),
            "tuteur": request.form.get("tuteur"),
            "creneaux": [{"debut": request.form.get("debut"), "duree": request.form.get("duree")}],
        }
    if not isinstance(data, dict) or not isinstance(data.get("creneaux"), list):
        raise ParamError("Requête invalide : aucun créneau.")
    if not data.get("cours"):
        raise ParamError("Le cours est obligatoire.")
    offer = bookable_offer(parse_text(data["cours"], "cours"))
    tutor_id = parse_optional_id(data.get("tuteur"))
    if not all(isinstance(s, dict) for s in data["creneaux"]):
        raise ParamError("Requête invalide : créneau mal formé.")
    return [
        carts.SlotRequest(
            offer.course,
            parse_start(str(s.get("debut") or "")),
            parse_duration(s.get("duree")),
            tutor_id,
            offer.tutors,
        )
        for s in data["creneaux"]
    ]


def adopt_guest_cart(user):
    """At login: move this browser's guest cart into the user's cart, saying what was dropped."""
    key = session.pop(GUEST_CART_KEY, None)
    if not key:
        return
    dropped = carts.merge_guest_cart(carts.find_cart(session_key=key), user)
    db.session.commit()
    mark_fresh(current_app, session, utcnow())
    if dropped:
        flash(
            f"{dropped} séance(s) de votre panier n'ont pas été conservées : "
            "elles étaient déjà dans votre panier ou en chevauchaient une autre.",
            "warning",
        )


@bp.get("/panier")
def cart():
    now = utcnow()
    user = current_user if current_user.is_authenticated else None
    # The credit the checkout will apply, computed as the checkout computes it.
    quote = checkouts.quote(current_cart(), user, now)
    return render_template("public/cart.html", summary=quote.summary, quote=quote, now=now)


@bp.post("/panier/ajouter")
def cart_add():
    requests = _slot_requests()
    rules = BookingRules.from_config(current_app.config)
    added = carts.add_to_owned_cart(requests, utcnow(), rules, **_owner(create=True))
    db.session.commit()
    mark_fresh(current_app, session, utcnow())
    message = "Séance ajoutée au panier." if len(added) == 1 else f"{len(added)} séances ajoutées au panier."
    if wants_json():
        return jsonify(ok=True, ajoutes=len(added), redirect=url_for("public.cart"))
    flash(message, "success")
    return redirect(url_for("public.cart"))


@bp.post("/panier/retirer/<int:item_id>")
def cart_remove(item_id):
    carts.remove_item(current_cart(), item_id)
    db.session.commit()
    mark_fresh(current_app, session, utcnow())
    if wants_json():
        return jsonify(ok=True)
    flash("Séance retirée du panier.", "info")
    return redirect(url_for("public.cart"))


@bp.post("/panier/retenir/<int:item_id>")
def cart_rehold(item_id):
    carts.rehold_item(current_cart(), item_id, utcnow(), BookingRules.from_config(current_app.config))
    db.session.commit()
    mark_fresh(current_app, session, utcnow())
    flash("La séance est de nouveau réservée pour vous.", "success")
    return redirect(url_for("public.cart"))


@bp.post("/panier/coupon")
def cart_coupon():
    code = parse_text(request.form.get("code"), "code promo")
    coupon = carts.apply_coupon(current_cart(create=True), code, utcnow())
    db.session.commit()
    flash(f"Code promo {coupon.code} appliqué.", "success")
    return redirect(url_for("public.cart"))


@bp.post("/panier/coupon/retirer")
def cart_coupon_remove():
    cart = current_cart()
    if cart is not None:
        carts.remove_coupon(cart)
        db.session.commit()
    flash("Code promo retiré.", "info")
    return redirect(url_for("public.cart"))

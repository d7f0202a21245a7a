"""Checkout, the simulated card page, the return page and the gateway webhook."""

import logging

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select

from .. import checkout as checkouts
from .. import json_input, webhooks
from ..booking_cache import mark_fresh
from ..extensions import csrf, db
from ..formatting import local_datetime
from ..models import Order, OrderStatus, Payment, PaymentStatus, utcnow
from ..params import ParamError, parse_optional_id
from ..payments import CARD_DECLINED, GatewayError, SignatureError, get_gateway
from ..payments.simulated import OUTCOMES
from .auth import sign_in
from .blueprint import bp
from .cart import current_cart
from .forms import CheckoutForm, SimulatedPaymentForm
from .limits import guest_checkout_limit

log = logging.getLogger(__name__)

CHECKOUT_ORDER_KEY = "checkout_order_id"
PAYMENT_ABANDONED = "Ce paiement a été annulé parce que la commande a changé ou expiré. Recommencez depuis la caisse."


def _gateway():
    return get_gateway(current_app.config)


def _billing(form):
    return checkouts.Billing(
        first_name=form.first_name.data.strip(),
        last_name=form.last_name.data.strip(),
        email=form.email.data,
        phone=form.phone.data.strip(),
        address=form.address.data.strip(),
        city=form.city.data.strip(),
        province=form.province.data,
        postal_code=(form.postal_code.data or "").strip().upper(),
    )


def _prefill(form, cart):
    """On the page's first display: what was typed for this cart's unpaid order (a declined card), else the profile.

    Passwords are never filled in again.
    """
    if request.method != "GET":
        return
    typed = checkouts.last_billing(cart)
    if typed is not None:
        for name in ("first_name", "last_name", "email", "phone", "address", "city", "province", "postal_code"):
            getattr(form, name).data = getattr(typed, name)
        return
    if current_user.is_authenticated:
        form.first_name.data = form.first_name.data or current_user.first_name
        form.last_name.data = form.last_name.data or current_user.last_name
        form.email.data = form.email.data or current_user.email
        form.phone.data = form.phone.data or current_user.phone


@bp.route("/checkout", methods=["GET", "POST"])
@guest_checkout_limit
def checkout():
    """Summary and billing; starting it writes the pending order and sends the card to the gateway."""
    now = utcnow()
    cart = current_cart()
    user = current_user if current_user.is_authenticated else None
    current = checkouts.quote(cart, user, now)
    if not current.summary.held:
        flash(checkouts.EMPTY_CART, "warning")
        return redirect(url_for("public.cart"))
    gateway = _gateway()
    form = CheckoutForm()
    _prefill(form, cart)
    saved_cards = []
    if user is not None and not gateway.simulated:
        try:
            saved_cards = gateway.saved_cards(user.stripe_customer_id)
        except GatewayError:
            saved_cards = []
    email_taken = False
    if form.validate_on_submit() and (user is not None or form.require_password()):
        saved_card = (user and form.saved_card.data) or None
        try:
            order, payment = checkouts.start_checkout(
                cart,
                _billing(form),
                now,
                gateway,
                user=user,
                password=form.password.data,
                save_card=bool(user and form.save_card.data),
                payment_method_id=saved_card,
            )
        except (checkouts.CheckoutError, GatewayError) as exc:
            db.session.rollback()
            email_taken = getattr(exc, "code", None) == "email_taken"
            if not email_taken:
                flash(str(exc), "danger")
        else:
            db.session.commit()
            session[CHECKOUT_ORDER_KEY] = order.id
            mark_fresh(current_app, session, utcnow())
            if payment is None:
                return redirect(url_for("public.payment_return", commande=order.id))
            if gateway.simulated:
                return redirect(url_for("public.simulated_payment", payment_id=payment.gateway_payment_id))
            if saved_card and payment.status != PaymentStatus.REQUIRES_ACTION:
                # Charged already: no card form, the return page waits for Stripe's event.
                return redirect(url_for("public.payment_return", commande=order.id))
            return render_template(
                "public/payment_stripe.html",
                order=order,
                client_secret=gateway.client_secret(payment.gateway_payment_id),
                publishable_key=gateway.publishable_key,
                authenticate=payment.status == PaymentStatus.REQUIRES_ACTION,
            )
    status = 400 if request.method == "POST" else 200
    return render_template(
        "public/checkout.html",
        form=form,
        quote=current,
        email_taken=email_taken,
        saved_cards=saved_cards,
        guest=user is None,
    ), status


def _is_session_order(order):
    """This browser's checkout, and not someone else's if another account has signed in since."""
    if order is None or order.id != session.get(CHECKOUT_ORDER_KEY):
        return False
    return not current_user.is_authenticated or current_user.id == order.user_id


def _session_payment(payment_id):
    """The payment of this browser's checkout, or 404."""
    payment = db.session.scalar(select(Payment).where(Payment.gateway_payment_id == payment_id))
    if payment is None or not _is_session_order(payment.order):
        abort(404)
    return payment


@bp.route("/paiement/simule/<payment_id>", methods=["GET", "POST"])
def simulated_payment(payment_id):
    """The offline test card page; its outcome goes through the webhook handler as a signed event."""
    gateway = _gateway()
    if not gateway.simulated:
        abort(404)
    payment = _session_payment(payment_id)
    if payment.status == PaymentStatus.CANCELED:
        # Like Stripe, a payment stopped when its order was abandoned can no longer be paid.
        flash(PAYMENT_ABANDONED, "warning")
        return redirect(url_for("public.checkout"))
    form = SimulatedPaymentForm()
    if form.validate_on_submit():
        outcome = form.outcome.data
        if outcome == "authenticate":
            return render_template("public/payment_simulated.html", payment=payment, form=form, authenticate=True)
        if outcome not in OUTCOMES:
            abort(400)
        message = None if outcome == "success" else CARD_DECLINED
        event = gateway.event(
            OUTCOMES[outcome], payment.gateway_payment_id, payment.order_id, payment.amount_cents, message
        )
        webhooks.receive(*gateway.sign(event), gateway, utcnow())
        db.session.commit()
        mark_fresh(current_app, session, utcnow())
        if outcome == "success":
            return redirect(url_for("public.payment_return", commande=payment.order_id))
        flash(CARD_DECLINED if outcome == "decline" else "L'authentification a été refusée. " + CARD_DECLINED, "danger")
        return redirect(url_for("public.checkout"))
    return render_template("public/payment_simulated.html", payment=payment, form=form, authenticate=False)


def _confirmation(order):
    lines = [
        escape(f"{i.course.title} — {local_datetime(i.starts_at)} ({i.duration_minutes} min)")
        for i in order.items
        if i.flagged_at is None
    ]
    # Nothing was charged when credit or a coupon covered everything.
    heading = "Paiement confirmé." if order.total_cents else "Réservation confirmée."
    message = escape(heading) + Markup(" Vos séances sont réservées :<br>") + Markup("<br>").join(lines)
    if any(i.flagged_at for i in order.items):
        message += Markup("<br>") + escape("Un créneau a été pris entre-temps : il vous a été remboursé.")
    return message


@bp.route("/paiement/retour")
def payment_return():
    """Where the payment comes back: sign the new account in and confirm the booking."""
    try:
        order_id = parse_optional_id(request.args.get("commande"), "commande")
    except ParamError:
        abort(404)
    order = db.session.get(Order, order_id) if order_id else None
    if not _is_session_order(order):
        abort(404)
    if order.status == OrderStatus.PENDING:
        return render_template("public/payment_pending.html", order=order)
    if order.status == OrderStatus.FAILED:
        flash(CARD_DECLINED, "danger")
        return redirect(url_for("public.checkout"))
    session.pop(CHECKOUT_ORDER_KEY, None)
    if not current_user.is_authenticated:
        sign_in(order.user)
    flash(_confirmation(order), "success")
    return redirect(url_for("public.dashboard"))


@bp.post("/webhooks/stripe")
@csrf.exempt
def gateway_webhook():
    """Stripe's (or the simulator's) signed events; the signature is checked before anything is written."""
    try:
        applied = webhooks.receive(request.get_data(), request.headers.get("Stripe-Signature"), _gateway(), utcnow())
    except SignatureError as exc:
        db.session.rollback()
        log.warning("Gateway webhook refused (event %r, %r): %s", *_claimed_event(request.get_data()), exc)
        return jsonify(error=str(exc)), 400
    except GatewayError as exc:
        # Applying the event needed the gateway (a charge's refunds, a dispute's payment), which did not
        # answer: nothing is kept, and the gateway sends the event again later.
        db.session.rollback()
        log.warning("Gateway webhook not applied (event %r, %r): %s", *_claimed_event(request.get_data()), exc)
        return jsonify(error=str(exc)), 503
    db.session.commit()
    log.info("Gateway webhook received: event %r (%r), %s", *_claimed_event(request.get_data()), _APPLIED[applied])
    return jsonify(recu=True, applique=applied)


_APPLIED = {True: "applied", False: "already received"}


def _claimed_event(body):
    """The id and type a webhook body claims, for the log: unverified when its signature was refused."""
    try:
        event = json_input.load(body)
    except ValueError:
        return None, None
    if not isinstance(event, dict):
        return None, None
    return str(event.get("id"))[:100], str(event.get("type"))[:100]

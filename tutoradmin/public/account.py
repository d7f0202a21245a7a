"""The student's own account: profile, password change, forgotten password, saved cards."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import accounts, password_reset
from ..extensions import db
from ..models import Role, utcnow
from ..payments import GatewayError, get_gateway
from .account_forms import CardForm, ChangePasswordForm, ForgotPasswordForm, ProfileForm, ResetPasswordForm
from .auth import sign_in
from .blueprint import bp
from .limits import change_password_limits, password_reset_limits


def _require_student():
    """The student pages are the student's: office accounts use the back office."""
    if current_user.role != Role.STUDENT:
        abort(403)


@bp.route("/tableau-de-bord/profil", methods=["GET", "POST"])
@login_required
def student_profile():
    """Name and phone; the email is shown, the office changes it."""
    _require_student()
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        try:
            accounts.update_profile(current_user, form.first_name.data, form.last_name.data, form.phone.data)
        except accounts.AccountError as exc:
            db.session.rollback()
            field = form.phone if exc.message == accounts.INVALID_PHONE else form.first_name
            field.errors.append(exc.message)
        else:
            db.session.commit()
            flash("Votre profil est enregistré.", "success")
            return redirect(url_for("public.student_profile"))
    status = 400 if form.is_submitted() else 200
    cards_page = not get_gateway(current_app.config).simulated
    return render_template("public/profile.html", form=form, cards_page=cards_page), status


@bp.route("/tableau-de-bord/mot-de-passe", methods=["GET", "POST"])
@login_required
@change_password_limits
def change_password():
    """A new password, given the current one; the account's other sessions end, this one carries on."""
    _require_student()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            accounts.change_password(user, form.current_password.data, form.password.data)
        except accounts.AccountError as exc:
            db.session.rollback()
            form.current_password.errors.append(exc.message)
        else:
            db.session.commit()
            # The session token changed with the password: sign this browser in again with the new one.
            sign_in(user)
            flash("Votre mot de passe est changé. Vos autres appareils ont été déconnectés.", "success")
            return redirect(url_for("public.dashboard"))
    status = 400 if form.is_submitted() else 200
    return render_template("public/change_password.html", form=form), status


def _reset_link(token):
    return current_app.config["PUBLIC_BASE_URL"] + url_for("public.reset_password", token=token)


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@password_reset_limits
def forgot_password():
    """Ask for a reset link: the answer never tells whether the address has an account."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        password_reset.request_reset(form.email.data, _reset_link, current_app.config["SECRET_KEY"], utcnow())
        db.session.commit()
        flash(password_reset.REQUEST_RECEIVED, "info")
        return redirect(url_for("public.forgot_password"))
    status = 400 if form.is_submitted() else 200
    return render_template("public/forgot_password.html", form=form), status


@bp.route("/mot-de-passe/<token>", methods=["GET", "POST"])
def reset_password(token):
    """Choose a new password through an emailed link, then carry on signed in."""
    now = utcnow()
    secret_key = current_app.config["SECRET_KEY"]
    try:
        password_reset.user_for_token(token, secret_key, now)
    except password_reset.ResetLinkError as exc:
        return _no_store(render_template("public/reset_password_invalid.html", message=exc.message), 400)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = password_reset.reset_password(token, form.password.data, secret_key, now)
        except accounts.AccountError as exc:
            db.session.rollback()
            form.password.errors.append(exc.message)
        else:
            user.last_login_at = now
            db.session.commit()
            sign_in(user)
            flash("Votre mot de passe est changé. Vous êtes connecté.", "success")
            return redirect(url_for(accounts.landing_endpoint(user)))
    status = 400 if form.is_submitted() else 200
    return _no_store(render_template("public/reset_password.html", form=form, token=token), status)


def _no_store(body, status):
    # The page's address holds the link's secret: no cache keeps it.
    return body, status, {"Cache-Control": "no-store"}


# Saved cards (Stripe only: the simulator saves none)


def _card_gateway():
    gateway = get_gateway(current_app.config)
    if gateway.simulated:
        abort(404)
    return gateway


@bp.route("/tableau-de-bord/cartes", methods=["GET", "POST"])
@login_required
def student_cards():
    """The student's saved cards: remove one, or choose the default."""
    _require_student()
    gateway = _card_gateway()
    customer_id = current_user.stripe_customer_id
    form = CardForm()
    if form.is_submitted():
        # Two buttons share the form: which one was pressed says what to do.
        action = request.form.get("action")
        if not form.validate() or action not in ("remove", "default"):
            flash("Choisissez une carte et une action.", "warning")
            return redirect(url_for("public.student_cards"))
        try:
            if action == "remove":
                gateway.detach_card(customer_id, form.payment_method.data)
                flash("La carte est retirée de votre compte.", "success")
            else:
                gateway.set_default_card(customer_id, form.payment_method.data)
                flash("Cette carte est maintenant votre carte par défaut.", "success")
        except GatewayError as exc:
            flash(exc.message, "danger")
        return redirect(url_for("public.student_cards"))
    try:
        cards = gateway.saved_cards(customer_id)
        default = gateway.default_card(customer_id)
    except GatewayError as exc:
        return render_template("public/cards.html", cards=[], default=None, error=exc.message, form=form), 503
    return render_template("public/cards.html", cards=cards, default=default, error=None, form=form)

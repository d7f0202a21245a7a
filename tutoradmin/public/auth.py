"""Login, logout and student sign-up."""

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from ..accounts import AccountError, authenticate, is_safe_next, landing_endpoint, register_student
from ..extensions import db, limiter
from ..models import normalize_email, utcnow
from . import bp
from .cart import adopt_guest_cart
from .checkout import CHECKOUT_ORDER_KEY
from .forms import LoginForm, LogoutForm, SignupForm


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


def _email_key():
    return "login:" + normalize_email(request.form.get("email"))


def _redirect_after_login(user, target):
    if is_safe_next(target):
        return redirect(target)
    return redirect(url_for(landing_endpoint(user)))


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_email_key)
def login():
    """Sign in; limited per address and per account against password guessing."""
    form = LoginForm(next=request.args.get("next", ""))
    if current_user.is_authenticated and request.method == "GET":
        return _redirect_after_login(current_user, form.next.data)
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data, now=utcnow())
        except AccountError as exc:
            flash(str(exc), "danger")
        else:
            db.session.commit()
            login_user(user, remember=form.remember.data)
            adopt_guest_cart(user)
            flash("Vous êtes connecté.", "success")
            return _redirect_after_login(user, form.next.data)
    status = 400 if request.method == "POST" else 200
    return render_template("public/login.html", form=form), status


@bp.route("/deconnexion", methods=["POST"])
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        logout_user()
        # The return page signs in the buyer of the browser's checkout: not after they leave.
        session.pop(CHECKOUT_ORDER_KEY, None)
        flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("public.home"))


@bp.route("/inscription", methods=["GET", "POST"])
def signup():
    """Create a student account and sign it in."""
    form = SignupForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = register_student(
                form.email.data,
                form.password.data,
                first_name=form.first_name.data.strip(),
                last_name=form.last_name.data.strip(),
                now=utcnow(),
            )
        except AccountError as exc:
            db.session.rollback()
            form.email.errors.append(str(exc))
        else:
            db.session.commit()
            login_user(user)
            adopt_guest_cart(user)
            flash("Bienvenue ! Votre compte est créé.", "success")
            return _redirect_after_login(user, form.next.data)
    status = 400 if request.method == "POST" else 200
    return render_template("public/signup.html", form=form), status

"""Login, logout and student sign-up."""

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from ..accounts import AccountError, authenticate, is_safe_next, landing_endpoint, register_student
from ..extensions import db
from ..models import utcnow
from .blueprint import bp
from .cart import GUEST_CART_KEY, adopt_guest_cart
from .forms import LoginForm, LogoutForm, SignupForm
from .limits import login_limits, signup_limit


def sign_in(user, remember=False):
    """Sign `user` in on a fresh session: nothing set before, by whoever set it, carries over but the guest cart."""
    guest_cart = session.get(GUEST_CART_KEY)
    session.clear()
    if guest_cart:
        session[GUEST_CART_KEY] = guest_cart
    login_user(user, remember=remember)


def _redirect_after_login(user, target):
    if is_safe_next(target):
        return redirect(target)
    return redirect(url_for(landing_endpoint(user)))


@bp.route("/connexion", methods=["GET", "POST"])
@login_limits
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
            sign_in(user, remember=form.remember.data)
            adopt_guest_cart(user)
            flash("Vous êtes connecté.", "success")
            return _redirect_after_login(user, form.next.data)
    status = 400 if request.method == "POST" else 200
    return render_template("public/login.html", form=form), status


@bp.route("/deconnexion", methods=["POST"])
def logout():
    """Sign out everywhere: the account's session token changes, so its other cookies stop working too."""
    form = LogoutForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            current_user.rotate_session_token()
            db.session.commit()
        # Nothing of the signed-in visit stays, notably the checkout the return page would sign in again.
        session.clear()
        logout_user()
        flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("public.home"))


@bp.route("/inscription", methods=["GET", "POST"])
@signup_limit
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
            sign_in(user)
            adopt_guest_cart(user)
            flash("Bienvenue ! Votre compte est créé.", "success")
            return _redirect_after_login(user, form.next.data)
    status = 400 if request.method == "POST" else 200
    return render_template("public/signup.html", form=form), status

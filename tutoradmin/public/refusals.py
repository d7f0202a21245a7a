"""How the public site answers a domain error: its HTTP status, then JSON, a flash or an error page."""

from flask import flash, jsonify, redirect, render_template, request, url_for

from ..calendars import UnknownTutor
from ..cart import CartItemNotFound, NoSlotChosen
from ..coupons import CouponError
from ..error_pages import wants_json
from ..errors import DomainError
from ..extensions import db
from ..offers import UnknownCourse
from ..params import ParamError
from .blueprint import bp

#: The status of a domain error, found by its class or nearest listed ancestor. Any other is a 409:
#: the request was understood, but the state of things refuses it (a slot taken, already in the cart).
STATUSES = {
    ParamError: 400,
    NoSlotChosen: 400,
    CouponError: 400,
    UnknownCourse: 404,
    UnknownTutor: 404,
    CartItemNotFound: 404,
}
#: Where a refused form goes back when the browser does not say which page of this site sent it.
FORM_PAGES = {"public.cart_add": "public.courses"}


def status_of(error):
    return next((STATUSES[cls] for cls in type(error).__mro__ if cls in STATUSES), 409)


def _back():
    referrer = request.referrer
    if referrer and referrer.startswith(request.host_url):
        return referrer
    return url_for(FORM_PAGES.get(request.endpoint, "public.cart"))


@bp.errorhandler(DomainError)
def refused(error):
    """Nothing of the request is kept; the message goes back as JSON, on the form's page, or on an error page."""
    db.session.rollback()
    status = status_of(error)
    if wants_json():
        return jsonify(error=error.message), status
    if request.method == "POST":
        flash(error.message, "warning")
        return redirect(_back())
    return render_template("error.html", code=status, message=error.message), status

"""The student's records: calendar files and feed, orders and receipts, credit history."""

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from .. import credits, ical, receipts
from ..credit_history import history_with_balance
from ..extensions import db
from ..models import ORDER_STATUS_LABELS, Appointment, utcnow
from ..pagination import paginate
from ..params import parse_page
from .blueprint import bp
from .forms import CalendarFeedForm
from .student import student_required

ORDERS_PER_PAGE = 20
CREDIT_LINES_PER_PAGE = 25
#: Calendar apps poll a feed every few minutes to hours; a proxy or the app may keep it 5 minutes.
FEED_MAX_AGE = 300


def _calendar_response(body, filename, cache_control, disposition="attachment"):
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers["Cache-Control"] = cache_control
    return response


@bp.route("/tableau-de-bord/seances/<int:appointment_id>.ics")
@student_required
def session_ics(appointment_id):
    """One session as a calendar file."""
    appointment = db.session.scalar(
        select(Appointment).where(Appointment.id == appointment_id, Appointment.student_id == current_user.id)
    )
    if appointment is None:
        abort(404)
    body = ical.session_calendar(appointment, utcnow())
    return _calendar_response(body, f"seance-{appointment.id}.ics", "private, no-cache")


@bp.route("/calendrier/<token>.ics")
def calendar_feed(token):
    """The private feed of an account's sessions: the token in the address is the only key."""
    user = ical.user_by_token(token)
    if user is None or not user.is_active:
        abort(404)
    body = ical.feed_calendar(user, utcnow())
    # Inline: calendar apps subscribe to it; a browser opening it should not keep a copy in Downloads.
    return _calendar_response(body, "seances-4as.ics", f"private, max-age={FEED_MAX_AGE}", "inline")


@bp.route("/tableau-de-bord/calendrier", methods=["POST"])
@student_required
def calendar_token():
    """Create, renew (the old address stops working) or revoke the private feed address."""
    form = CalendarFeedForm()
    if not form.validate_on_submit():
        message = next(iter(form.errors.values()), ["Action inconnue."])[0]
        flash(message, "warning")
        return redirect(url_for("public.dashboard"))
    message = ical.change_feed(current_user, form.action.data)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("public.dashboard") + "#calendrier")


@bp.route("/tableau-de-bord/commandes")
@student_required
def student_orders():
    page = paginate(
        receipts.student_orders(current_user.id), parse_page(request.args.get("page")), ORDERS_PER_PAGE, scalars=False
    )
    return render_template("public/orders.html", page=page, status_labels=ORDER_STATUS_LABELS)


def _own_order(order_id):
    order = receipts.student_order(current_user.id, order_id)
    if order is None:
        abort(404)
    return order


@bp.route("/tableau-de-bord/commandes/<int:order_id>")
@student_required
def student_order(order_id):
    order = _own_order(order_id)
    return render_template(
        "public/order.html",
        order=order,
        statement=receipts.statement(order),
        item_status=receipts.item_status,
        refund_status=receipts.refund_status,
        status_labels=ORDER_STATUS_LABELS,
    )


@bp.route("/tableau-de-bord/commandes/<int:order_id>/recu")
@student_required
def student_receipt(order_id):
    order = _own_order(order_id)
    return render_template(
        "public/receipt.html",
        order=order,
        statement=receipts.statement(order),
        business_name=current_app.config["BUSINESS_NAME"],
        business_address=current_app.config["BUSINESS_ADDRESS"],
    )


@bp.route("/tableau-de-bord/credits")
@student_required
def student_credits():
    page = paginate(
        history_with_balance(current_user.id),
        parse_page(request.args.get("page")),
        CREDIT_LINES_PER_PAGE,
        scalars=False,
    )
    return render_template(
        "public/credits.html",
        page=page,
        balance_cents=credits.balance_cents(current_user.id),
        reserved_cents=credits.reserved_cents(current_user.id),
        available_cents=credits.available_cents(current_user.id),
    )

"""The student's space: the dashboard, one session's page, cancelling it for a credit, moving it."""

from functools import wraps

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from wtforms import HiddenField

from .. import appointments, credits, messaging, rescheduling, support
from ..booking_cache import mark_fresh
from ..errors import DomainError
from ..extensions import db
from ..formatting import local_datetime, money
from ..forms import BaseForm
from ..localtime import add_months, to_local
from ..models import APPOINTMENT_STATUS_LABELS, Appointment, Role, utcnow
from ..offers import month_weeks
from ..params import parse_date, parse_month, parse_page, parse_start
from ..payments import get_gateway
from ..reservations import given_back, history, past_appointments, upcoming_appointments
from ..slots import BookingRules
from .blueprint import bp

EXPIRED_FORM = "Le formulaire a expiré : rechargez la page et recommencez."


class CancelSessionForm(BaseForm):
    """Cancel one session (CSRF only)."""


class MoveSessionForm(BaseForm):
    debut = HiddenField()


def student_required(view):
    """Signed in (a suspended account is signed out by Flask-Login) and a student; the office has its own pages."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if current_user.role != Role.STUDENT:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _own_appointment(appointment_id):
    """The signed-in student's session, or 404 (another student's session does not exist for them)."""
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or appointment.student_id != current_user.id:
        abort(404)
    return appointment


def _notice_hours():
    config = current_app.config
    return config["CANCELLATION_NOTICE_HOURS"], config["RESCHEDULE_NOTICE_HOURS"]


@bp.route("/tableau-de-bord")
@student_required
def dashboard():
    """Upcoming sessions, a page of past ones, the credit balance and links to the rest of the space."""
    now = utcnow()
    page = parse_page(request.args.get("page"))
    upcoming = upcoming_appointments(current_user.id, now)
    past = past_appointments(current_user.id, now, page)
    shown = [*upcoming, *past.items]
    return render_template(
        "public/dashboard.html",
        user=current_user,
        upcoming=upcoming,
        past=past,
        given_back=given_back(shown),
        unread=messaging.unread_counts(current_user, [a.id for a in shown]),
        unread_total=messaging.unread_total(current_user),
        unread_tickets=support.unread_ticket_count(current_user.id),
        balance_cents=credits.balance_cents(current_user.id),
        reserved_cents=credits.reserved_cents(current_user.id),
        status_labels=APPOINTMENT_STATUS_LABELS,
        now=now,
        # Cards are saved only with Stripe; the simulator keeps none.
        cards_page=not get_gateway(current_app.config).simulated,
    )


@bp.route("/tableau-de-bord/seances/<int:appointment_id>")
@student_required
def student_session(appointment_id):
    """One session: details, modification history, what the student may still do and until when."""
    appointment = _own_appointment(appointment_id)
    now = utcnow()
    cancel_hours, move_hours = _notice_hours()
    return render_template(
        "public/student_session.html",
        appointment=appointment,
        changes=history(appointment),
        given_back=given_back([appointment]).get(appointment.id),
        cancel_deadline=appointments.cancel_deadline(appointment, cancel_hours),
        move_deadline=rescheduling.move_deadline(appointment, move_hours),
        can_cancel=appointments.student_can_cancel(appointment, now, cancel_hours),
        can_move=rescheduling.student_can_move(appointment, now, move_hours),
        cancel_hours=cancel_hours,
        move_hours=move_hours,
        form=CancelSessionForm(),
        status_labels=APPOINTMENT_STATUS_LABELS,
        unread=messaging.unread_counts(current_user, [appointment.id]).get(appointment.id, 0),
        now=now,
    )


@bp.post("/tableau-de-bord/seances/<int:appointment_id>/annuler")
@student_required
def cancel_session(appointment_id):
    appointment = _own_appointment(appointment_id)
    back = url_for("public.student_session", appointment_id=appointment_id)
    if not CancelSessionForm().validate_on_submit():
        return _refused(EXPIRED_FORM, back)
    try:
        credit = appointments.student_cancel(appointment, current_user, utcnow(), _notice_hours()[0])
    except DomainError as error:
        return _refused(error.message, back)
    db.session.commit()
    mark_fresh(current_app, session, utcnow())
    if credit:
        flash(f"Séance annulée : un crédit de {money(credit)} a été ajouté à votre compte.", "success")
    else:
        flash("Séance annulée.", "success")
    return redirect(back)


def _refused(message, back):
    """Nothing of the request is kept; the reason shows on the page the student goes back to."""
    db.session.rollback()
    flash(message, "warning")
    return redirect(back)


@bp.route("/tableau-de-bord/seances/<int:appointment_id>/deplacer", methods=["GET", "POST"])
@student_required
def move_session(appointment_id):
    """GET: the calendar of free slots (and the chosen one to confirm); POST: move the session there."""
    appointment = _own_appointment(appointment_id)
    now = utcnow()
    move_hours = _notice_hours()[1]
    rules = BookingRules.from_config(current_app.config)
    session_page = url_for("public.student_session", appointment_id=appointment_id)
    form = MoveSessionForm()
    if request.method == "POST":
        back = request.referrer if (request.referrer or "").startswith(request.host_url) else request.url
        if not form.validate_on_submit():
            return _refused(EXPIRED_FORM, back)
        try:
            new_start = parse_start(form.debut.data)
            rescheduling.student_move(appointment, current_user, new_start, now, move_hours, rules)
        except DomainError as error:
            return _refused(error.message, back)
        db.session.commit()
        mark_fresh(current_app, session, utcnow())
        flash(f"Séance déplacée au {local_datetime(appointment.starts_at)}.", "success")
        return redirect(session_page)

    try:
        rescheduling.check_student_can_move(appointment, current_user, now, move_hours)
    except DomainError as error:
        return _refused(error.message, session_page)
    chosen = parse_start(request.args["debut"]) if request.args.get("debut") else None
    day = parse_date(request.args["date"]) if request.args.get("date") else None
    if chosen is not None and day is None:
        day = to_local(chosen).date()
    if day is not None or request.args.get("mois"):
        month = day.replace(day=1) if day else parse_month(request.args["mois"])
        days = rescheduling.month_days(appointment, month, now, rules)
    else:
        month, days = rescheduling.opening_month(appointment, now, rules)
    slots = rescheduling.day_slots(appointment, day, now, rules) if day else []
    chosen_slot = next((slot for slot in slots if slot.starts_at == chosen), None)
    first_day, last_day = rules.window(now).local_days()
    previous_month, next_month = add_months(month, -1), add_months(month, 1)
    return render_template(
        "public/move_session.html",
        appointment=appointment,
        form=form,
        month=month,
        weeks=month_weeks(month),
        open_days=set(days),
        first_day=first_day,
        last_day=last_day,
        day=day,
        slots=slots,
        chosen=chosen,
        chosen_slot=chosen_slot,
        move_deadline=rescheduling.move_deadline(appointment, move_hours),
        previous_month=previous_month if previous_month >= first_day.replace(day=1) else None,
        next_month=next_month if next_month <= last_day else None,
    )

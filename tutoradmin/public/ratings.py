"""A student rates a completed session from its page."""

from flask import abort, flash, redirect, url_for
from flask_login import current_user, login_required

from .. import ratings
from ..extensions import db
from ..models import Appointment, Role, utcnow
from .account_forms import RatingForm
from .blueprint import bp


@bp.route("/tableau-de-bord/seances/<int:appointment_id>/evaluer", methods=["POST"])
@login_required
def rate_session(appointment_id):
    """Give or change the rating of one's own completed session, then back to its page."""
    if current_user.role != Role.STUDENT:
        abort(403)
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or appointment.student_id != current_user.id:
        abort(404)
    form = RatingForm()
    back = redirect(url_for("public.student_session", appointment_id=appointment.id))
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "warning")
        return back
    try:
        ratings.rate(appointment, current_user, form.score.data, form.comment.data, utcnow())
    except ratings.RatingError as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return back
    db.session.commit()
    flash("Merci ! Votre évaluation est enregistrée.", "success")
    return back


@bp.context_processor
def rating_rules():
    """What the rating partial asks of a session and its rating (the rules stay in tutoradmin.ratings)."""
    return {
        "can_rate": ratings.can_rate,
        "rating_is_editable": ratings.is_editable,
        "rating_editable_until": ratings.editable_until,
    }

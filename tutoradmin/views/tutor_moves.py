"""A tutor moves one of their sessions to another of their free slots, with a reason (SPEC §10)."""

from datetime import timedelta

from flask import current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from .. import rescheduling
from ..appointments import AppointmentError
from ..error_pages import PageError
from ..formatting import local_datetime
from ..forms import BaseForm
from ..localtime import to_local
from ..models import utcnow
from ..params import ParamError, parse_date, parse_start
from ..slots import BookingRules
from .base import form_status, perform

#: Local dates shown per page of free slots.
DAYS_PER_PAGE = 14
EXPIRED_FORM = "Le formulaire a expiré : rechargez la page et recommencez."


class TutorMoveForm(BaseForm):
    # The radio buttons of the page; rescheduling.tutor_move checks the time is one of the tutor's free slots.
    debut = StringField("Nouveau créneau", validators=[DataRequired("Choisissez un nouveau créneau.")])
    reason = TextAreaField(
        "Motif du déplacement (noté à l'historique de la séance)",
        validators=[
            DataRequired(rescheduling.REASON_REQUIRED),
            Length(max=rescheduling.REASON_MAX_LENGTH, message="Le motif dépasse 1000 caractères."),
        ],
    )


class TutorMoveMixin:
    """For MyAppointmentView: the « Déplacer » page of an upcoming session of the signed-in tutor."""

    @expose("/deplacer/<int:id>", methods=("GET", "POST"))
    def move(self, id):
        """GET: the tutor's free slots for the session, by day; POST: move it there with a reason."""
        appointment = self.get_one(str(id))
        now = utcnow()
        notice = current_app.config["RESCHEDULE_NOTICE_HOURS"]
        rules = BookingRules.from_config(current_app.config)
        back = url_for(".index_view")
        tutor = current_user.tutor_profile
        try:
            rescheduling.check_tutor_can_move(appointment, tutor, now, notice)
        except AppointmentError as exc:
            flash(exc.message, "error")
            return redirect(back)
        form = TutorMoveForm()
        if form.validate_on_submit():
            done = perform(
                lambda: rescheduling.tutor_move(
                    appointment, current_user, parse_start(form.debut.data), form.reason.data, now, notice, rules
                ),
                lambda change: f"Séance déplacée au {local_datetime(change.new_starts_at)} ; l'étudiant en est avisé.",
                back,
            )
            if done:
                return done
        elif request.method == "POST" and "csrf_token" in form.errors:
            flash(EXPIRED_FORM, "error")
        return self._move_page(appointment, tutor, form, now, rules, notice, back)

    def _move_page(self, appointment, tutor, form, now, rules, notice, back):
        first_day, last_day = rules.window(now).local_days()
        try:
            start = parse_date(request.args["du"], "du") if request.args.get("du") else first_day
        except ParamError as exc:
            raise PageError(400, exc.message) from exc
        start = min(max(start, first_day), last_day)
        end = min(start + timedelta(days=DAYS_PER_PAGE - 1), last_day)
        try:
            found = rescheduling.slots_between(appointment, start, end, now, rules, tutor_allowed=tutor.id)
        except AppointmentError as exc:
            # The tutor no longer teaches the course, or is no longer active.
            flash(exc.message, "error")
            return redirect(back)
        # Each slot with the value its radio button posts: the start in Toronto time with its offset.
        days = [(day, [(to_local(slot.starts_at).isoformat(), slot) for slot in slots]) for day, slots in found.items()]
        previous = max(start - timedelta(days=DAYS_PER_PAGE), first_day) if start > first_day else None
        following = end + timedelta(days=1) if end < last_day else None
        return self.render(
            "admin/tutor_move.html",
            appointment=appointment,
            form=form,
            days=days,
            start=start,
            end=end,
            chosen=form.debut.data,
            previous=previous,
            following=following,
            notice_hours=notice,
            move_deadline=rescheduling.move_deadline(appointment, notice),
            back_url=back,
        ), form_status()

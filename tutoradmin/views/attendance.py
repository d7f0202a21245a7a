"""The attendance mark page of a session, for its tutor and for the office (SPEC §10).

Mixed into the tutor's and the office's appointment views, so that it shares their row checks: a
tutor reaches only their own sessions (another's is not found). The tutor's page shows shares,
never what the student paid.
"""

from flask import current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from .. import attendance
from ..extensions import db
from ..formatting import local_datetime, money
from ..forms import BaseForm
from ..models import ATTENDANCE_LABELS, Attendance, User, utcnow
from .base import form_status, perform


class AttendanceForm(BaseForm):
    # Any value reaches the domain, which refuses an unknown mark in French.
    kind = RadioField(
        "Présence",
        choices=[SelectChoice(kind.value, ATTENDANCE_LABELS[kind]) for kind in Attendance],
        validate_choice=False,
        validators=[InputRequired("Choisissez la présence.")],
    )
    note = TextAreaField(
        "Note à l'étudiant (facultative)",
        validators=[Length(max=attendance.NOTE_MAX_LENGTH, message=attendance.NOTE_TOO_LONG)],
    )


def choice_texts(appointment, policy, office):
    """What each mark means under `policy`: shares for the tutor, with the credit's amount for the office."""
    texts = {}
    for kind in Attendance:
        tutor_percent, credit_percent = attendance.shares(kind, policy)
        credit = f"{credit_percent} %"
        if office:
            credit += f" ({money(attendance.credit_cents(appointment, credit_percent))})"
        share = "votre part" if not office else "part du tuteur"
        texts[kind.value] = f"Crédit à l'étudiant : {credit} ; {share} : {tutor_percent} %."
    return texts


def _marked_by(appointment, office):
    if appointment.attendance_marked_by_id is None:
        return "par défaut, faute de présence notée"
    user = db.session.get(User, appointment.attendance_marked_by_id)
    if office:
        return f"par {user.full_name}" if user else "par un compte supprimé"
    if user is not None and user.id == current_user.id:
        return "par vous"
    return "par l'équipe de 4AS"


def _done(office):
    def message(result):
        text = f"Présence notée : {ATTENDANCE_LABELS[result.appointment.attendance]}."
        if office and result.credit_change_cents > 0:
            text += f" Crédit accordé à l'étudiant : {money(result.credit_change_cents)}."
        elif office and result.credit_change_cents < 0:
            text += f" Crédit repris à l'étudiant : {money(-result.credit_change_cents)}."
        if office and result.adjustment is not None:
            text += f" Ajustement sur le prochain relevé du tuteur : {money(result.adjustment.amount_cents)}."
        return text

    return message


class AttendanceMarking:
    """The page `<view>.attendance`: mark a session présent, absent or annulation tardive."""

    def offers_attendance(self, appointment, now):
        """Whether « Présence » is offered for a session: only where its mark would be accepted now."""
        try:
            attendance.check_can_mark(appointment, current_user, now)
        except attendance.AttendanceError:
            return False
        return True

    def attendance_back_url(self, appointment):
        if request.args.get("retour") == "accueil":
            return url_for("admin.index")
        return url_for(".index_view")

    @expose("/presence/<int:id>", methods=("GET", "POST"))
    def attendance(self, id):
        """Mark or correct the attendance of a session that has ended, with an optional note to the student."""
        appointment = self.get_one(str(id))
        now, office = utcnow(), attendance.is_office(current_user)
        back = self.attendance_back_url(appointment)
        try:
            attendance.check_can_mark(appointment, current_user, now)
        except attendance.AttendanceError as exc:
            flash(exc.message, "error")
            return redirect(back)
        form = AttendanceForm(kind=appointment.attendance, note=appointment.attendance_note)
        if form.validate_on_submit():
            done = perform(
                lambda: attendance.mark(appointment, current_user, form.kind.data, form.note.data, now),
                _done(office),
                back,
            )
            if done:
                return done
            appointment = self.get_one(str(id))
        policy = attendance.current_policy()
        return self.render(
            "admin/attendance_mark.html",
            appointment=appointment,
            office=office,
            form=form,
            texts=choice_texts(appointment, policy, office),
            policy=policy,
            current_label=ATTENDANCE_LABELS.get(appointment.attendance),
            marked_at=local_datetime(appointment.attendance_marked_at),
            marked_by=_marked_by(appointment, office) if appointment.attendance else "",
            default_at=local_datetime(
                attendance.default_mark_at(appointment, current_app.config["ATTENDANCE_GRACE_HOURS"])
            ),
            month_paid=office and attendance.month_paid(appointment),
            starts_at=local_datetime(appointment.starts_at),
            back_url=back,
        ), form_status()

"""Back-office action forms (CSRF through Flask-WTF): refunds, cancellations, bookings, credits."""

from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import BaseForm
from ..messaging import HIDE_REASON_MAX_LENGTH
from ..models import MESSAGE_MAX_LENGTH, SESSION_DURATIONS
from ..public.forms import attachment_field
from .fields import LocalDateTimeField, MoneyField

REQUIRED = "Ce champ est obligatoire."
REASON = [DataRequired("Indiquez un motif."), Length(max=1000)]


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RefundForm(BaseForm):
    amount = MoneyField("Montant à rembourser ($)", validators=[InputRequired(REQUIRED)])
    sessions = CheckboxesField("Séances à annuler", coerce=int, validate_choice=True)
    reason = TextAreaField("Motif", validators=REASON)
    # One key per displayed form: submitting it twice refunds once.
    request_key = HiddenField()


class CancelAppointmentForm(BaseForm):
    reason = TextAreaField("Motif de l'annulation", validators=REASON)


class MeetingLinkForm(BaseForm):
    url = StringField(
        "Lien de la rencontre (Zoom, Teams ou Meet)", validators=[DataRequired(REQUIRED), Length(max=500)]
    )


class BookAppointmentForm(BaseForm):
    student_id = SelectField("Étudiant", coerce=int, validators=[InputRequired(REQUIRED)])
    course_id = SelectField("Cours", coerce=int, validators=[InputRequired(REQUIRED)])
    tutor_id = SelectField("Tuteur", coerce=int, validators=[InputRequired(REQUIRED)])
    starts_at = LocalDateTimeField("Début (heure de Montréal)", validators=[InputRequired(REQUIRED)])
    duration_minutes = SelectField(
        "Durée",
        coerce=int,
        choices=[SelectChoice(d, f"{d} minutes") for d in SESSION_DURATIONS],
        validators=[InputRequired(REQUIRED)],
    )


class CreditAdjustmentForm(BaseForm):
    direction = SelectField(
        "Opération",
        choices=[
            SelectChoice("credit", "Ajouter du crédit"),
            SelectChoice("debit", "Retirer du crédit"),
        ],
    )
    amount = MoneyField("Montant ($)", validators=[InputRequired(REQUIRED)])
    reason = TextAreaField("Motif", validators=REASON)


class TicketReplyForm(BaseForm):
    # Its length is checked by support.reply, which counts a line break as one character.
    body = TextAreaField(
        "Message", validators=[DataRequired("Écrivez un message.")], render_kw={"maxlength": MESSAGE_MAX_LENGTH}
    )
    internal = BooleanField("Note interne (invisible pour l'étudiant)")
    pieces_jointes = attachment_field()


class HideMessageForm(BaseForm):
    reason = TextAreaField(
        "Motif",
        validators=[
            DataRequired("Indiquez pourquoi ce message est masqué."),
            Length(max=HIDE_REASON_MAX_LENGTH),
        ],
        render_kw={"rows": 2, "maxlength": HIDE_REASON_MAX_LENGTH},
    )

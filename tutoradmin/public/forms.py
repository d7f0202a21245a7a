"""Public forms (CSRF-protected through Flask-WTF)."""

from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Email, EqualTo, Length, Optional, ValidationError

from ..attachments import ACCEPT
from ..forms import BaseForm
from ..passwords import MIN_PASSWORD_LENGTH, TOO_COMMON, is_common

REQUIRED = "Ce champ est obligatoire."
PASSWORDS_DIFFER = "Les mots de passe ne correspondent pas."


def not_common(_form, field):
    """Refuse a new password from the list of the most common ones."""
    if field.data and is_common(field.data):
        raise ValidationError(TOO_COMMON)


def new_password_field(label, required=True):
    """A password being chosen: long enough, not a common one (sign-up, checkout, change and reset)."""
    return PasswordField(
        label,
        validators=[
            DataRequired(REQUIRED) if required else Optional(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères.",
            ),
            not_common,
        ],
        render_kw={"autocomplete": "new-password"},
    )


def password_confirmation_field(label, required=True):
    """The same password typed again."""
    validators = [EqualTo("password", PASSWORDS_DIFFER)]
    return PasswordField(
        label,
        validators=[DataRequired(REQUIRED), *validators] if required else validators,
        render_kw={"autocomplete": "new-password"},
    )


class LoginForm(BaseForm):
    email = EmailField("Adresse courriel", validators=[DataRequired(REQUIRED)])
    password = PasswordField("Mot de passe", validators=[DataRequired(REQUIRED)])
    remember = BooleanField("Rester connecté")
    next = HiddenField()


class SignupForm(BaseForm):
    first_name = StringField("Prénom", validators=[DataRequired(REQUIRED), Length(max=100)])
    last_name = StringField("Nom", validators=[DataRequired(REQUIRED), Length(max=100)])
    email = EmailField(
        "Adresse courriel",
        validators=[
            DataRequired(REQUIRED),
            Email("Adresse courriel invalide.", check_deliverability=False),
            Length(max=254),
        ],
    )
    password = new_password_field("Mot de passe")
    password_confirm = password_confirmation_field("Confirmer le mot de passe")
    next = HiddenField()


class LogoutForm(BaseForm):
    """Logging out is a POST so that a link on another site cannot do it."""


PROVINCES = [
    SelectChoice(code, name)
    for code, name in [
        ("QC", "Québec"),
        ("ON", "Ontario"),
        ("NB", "Nouveau-Brunswick"),
        ("NS", "Nouvelle-Écosse"),
        ("PE", "Île-du-Prince-Édouard"),
        ("NL", "Terre-Neuve-et-Labrador"),
        ("MB", "Manitoba"),
        ("SK", "Saskatchewan"),
        ("AB", "Alberta"),
        ("BC", "Colombie-Britannique"),
        ("YT", "Yukon"),
        ("NT", "Territoires du Nord-Ouest"),
        ("NU", "Nunavut"),
    ]
]


class CheckoutForm(BaseForm):
    """Billing details; guests also choose the password of the account created for them."""

    # `autocomplete` hints let browsers fill the address and offer to generate the new password.
    first_name = StringField(
        "Prénom", validators=[DataRequired(REQUIRED), Length(max=100)], render_kw={"autocomplete": "given-name"}
    )
    last_name = StringField(
        "Nom", validators=[DataRequired(REQUIRED), Length(max=100)], render_kw={"autocomplete": "family-name"}
    )
    email = EmailField(
        "Adresse courriel",
        validators=[
            DataRequired(REQUIRED),
            Email("Adresse courriel invalide.", check_deliverability=False),
            Length(max=254),
        ],
        render_kw={"autocomplete": "email"},
    )
    phone = StringField(
        "Téléphone", validators=[DataRequired(REQUIRED), Length(max=40)], render_kw={"autocomplete": "tel"}
    )
    address = StringField(
        "Adresse", validators=[DataRequired(REQUIRED), Length(max=255)], render_kw={"autocomplete": "street-address"}
    )
    city = StringField(
        "Ville", validators=[DataRequired(REQUIRED), Length(max=100)], render_kw={"autocomplete": "address-level2"}
    )
    province = SelectField("Province", choices=PROVINCES, default="QC", render_kw={"autocomplete": "address-level1"})
    postal_code = StringField("Code postal", validators=[Length(max=10)], render_kw={"autocomplete": "postal-code"})
    password = new_password_field("Mot de passe du compte", required=False)
    password_confirm = password_confirmation_field("Confirmer le mot de passe", required=False)
    save_card = BooleanField("Sauvegarder cette carte pour les prochains achats")
    # Sent by the saved cards' radio buttons; a hidden field would come first in the form data and hide the choice.
    saved_card = StringField()

    def require_password(self):
        """Guests must choose a password; returns False (with the error set) when missing."""
        if self.password.data:
            return True
        self.password.errors = [*self.password.errors, "Choisissez un mot de passe pour votre compte."]
        return False


class SimulatedPaymentForm(BaseForm):
    """The test card page: the outcome the simulated bank gives."""

    outcome = HiddenField()


class CalendarFeedForm(BaseForm):
    """Create, renew or revoke the private calendar feed address (the button pressed names the action)."""

    action = StringField(validators=[AnyOf(("create", "renew", "revoke"), message="Action inconnue.")])


def attachment_field(label="Pièces jointes"):
    """Files attached to a message: declare it as the form attribute `pieces_jointes`.

    The view checks them with `attachments.read_uploads(request.files.getlist("pieces_jointes"))`; the form is
    posted as multipart/form-data and shown with `attachment_input` (templates/partials/attachments.html).
    """
    return MultipleFileField(label, render_kw={"accept": ACCEPT})

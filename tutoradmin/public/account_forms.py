"""Forms of the student's own account: profile, password, forgotten password, ratings, saved cards."""

from wtforms import EmailField, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from ..forms import BaseForm
from ..passwords import MIN_PASSWORD_LENGTH
from ..ratings import MAX_COMMENT_LENGTH
from .forms import REQUIRED, not_common

PASSWORDS_DIFFER = "Les mots de passe ne correspondent pas."


def _new_password(label):
    return PasswordField(
        label,
        validators=[
            DataRequired(REQUIRED),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères.",
            ),
            not_common,
        ],
        render_kw={"autocomplete": "new-password"},
    )


def _confirmation():
    return PasswordField(
        "Confirmer le nouveau mot de passe",
        validators=[DataRequired(REQUIRED), EqualTo("password", PASSWORDS_DIFFER)],
        render_kw={"autocomplete": "new-password"},
    )


class ProfileForm(BaseForm):
    first_name = StringField(
        "Prénom", validators=[DataRequired(REQUIRED), Length(max=100)], render_kw={"autocomplete": "given-name"}
    )
    last_name = StringField(
        "Nom", validators=[DataRequired(REQUIRED), Length(max=100)], render_kw={"autocomplete": "family-name"}
    )
    phone = StringField(
        "Téléphone (facultatif)", validators=[Length(max=40)], render_kw={"autocomplete": "tel", "type": "tel"}
    )


class ChangePasswordForm(BaseForm):
    current_password = PasswordField(
        "Mot de passe actuel", validators=[DataRequired(REQUIRED)], render_kw={"autocomplete": "current-password"}
    )
    password = _new_password("Nouveau mot de passe")
    password_confirm = _confirmation()


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ForgotPasswordForm(BaseForm):
    email = EmailField(
        "Adresse courriel",
        filters=[_strip],
        validators=[
            DataRequired(REQUIRED),
            Email("Adresse courriel invalide.", check_deliverability=False),
            Length(max=254),
        ],
        render_kw={"autocomplete": "email"},
    )


class ResetPasswordForm(BaseForm):
    password = _new_password("Nouveau mot de passe")
    password_confirm = _confirmation()


class RatingForm(BaseForm):
    # Read as text: ratings.parse_score says what is wrong with it, in French.
    score = StringField("Note")
    comment = TextAreaField(
        "Commentaire (facultatif)",
        validators=[Length(max=MAX_COMMENT_LENGTH, message=f"{MAX_COMMENT_LENGTH} caractères au plus.")],
    )


class CardForm(BaseForm):
    """Remove a saved card, or make it the default."""

    payment_method = HiddenField(validators=[DataRequired(REQUIRED), Length(max=255)])

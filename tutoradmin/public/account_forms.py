"""Forms of the student's own account: profile, password, forgotten password, ratings, saved cards."""

from wtforms import EmailField, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length

from ..forms import BaseForm
from ..ratings import MAX_COMMENT_LENGTH
from .forms import REQUIRED, new_password_field, password_confirmation_field


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
    password = new_password_field("Nouveau mot de passe")
    password_confirm = password_confirmation_field("Confirmer le nouveau mot de passe")


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
    password = new_password_field("Nouveau mot de passe")
    password_confirm = password_confirmation_field("Confirmer le nouveau mot de passe")


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

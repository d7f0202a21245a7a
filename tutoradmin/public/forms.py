"""Public forms (CSRF-protected through Flask-WTF)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from ..accounts import MIN_PASSWORD_LENGTH

REQUIRED = "Ce champ est obligatoire."


class LoginForm(FlaskForm):
    email = EmailField("Adresse courriel", validators=[DataRequired(REQUIRED)])
    password = PasswordField("Mot de passe", validators=[DataRequired(REQUIRED)])
    remember = BooleanField("Rester connecté")
    next = HiddenField()


class SignupForm(FlaskForm):
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
    password = PasswordField(
        "Mot de passe",
        validators=[
            DataRequired(REQUIRED),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères.",
            ),
        ],
    )
    password_confirm = PasswordField(
        "Confirmer le mot de passe",
        validators=[DataRequired(REQUIRED), EqualTo("password", "Les mots de passe ne correspondent pas.")],
    )
    next = HiddenField()


class LogoutForm(FlaskForm):
    """Logging out is a POST so that a link on another site cannot do it."""

"""Accounts: sign-up, authentication, creation by role, and where each role lands."""

import re
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import audit, events, outbox, passwords
from .errors import DomainError
from .extensions import db
from .models import BACK_OFFICE_ROLES, OutboxEventType, Role, User, UserStatus, normalize_email


class AccountError(DomainError):
    """An account operation refused, with a message for the user."""


INVALID_CREDENTIALS = "Adresse courriel ou mot de passe invalide."
SUSPENDED = "Ce compte est suspendu. Communiquez avec 4AS pour le réactiver."
EMAIL_TAKEN = "Un compte existe déjà avec cette adresse email. Veuillez vous connecter avec votre compte existant."
INVALID_EMAIL = "Adresse courriel invalide."
PASSWORD_REQUIRED = "Choisissez un mot de passe pour le nouveau compte."


#: Changing one of these ends the account's open sessions: a suspension applies everywhere at once.
ACCESS_FIELDS = ("role", "status")


def check_password_strength(password):
    """Refuse passwords too short or too common to be safe (sign-up, checkout, back office, CLI)."""
    problem = passwords.weakness(password)
    if problem:
        raise AccountError(problem)


def check_email_address(email):
    """Refuse what cannot be an email address."""
    if "@" not in (email or ""):
        raise AccountError(INVALID_EMAIL)


def check_email_free(email, user=None):
    """Refuse an email address that an account other than `user` already has."""
    # Without autoflush: the account being edited may already hold the new address, unsaved.
    with db.session.no_autoflush:
        existing = User.find_by_email(email)
    if existing is not None and existing is not user:
        raise AccountError(EMAIL_TAKEN)


def check_saved_account(user, new_password, created):
    """Refuse an account the back office is saving: a bad or taken email, or a new account without a password."""
    check_email_address(user.email)
    check_email_free(user.email, user)
    if created and not new_password:
        raise AccountError(PASSWORD_REQUIRED)


def create_user(email, password, role=Role.STUDENT, first_name="", last_name="", phone=None):
    """Add an account; the caller commits. Raises AccountError if the email is taken."""
    if str(role) not in Role.values():
        raise AccountError(f"Rôle inconnu : {role}.")
    email = normalize_email(email)
    check_email_address(email)
    check_password_strength(password)
    check_email_free(email)
    user = User(email=email, role=str(role), first_name=first_name, last_name=last_name, phone=phone)
    user.set_password(password)
    try:
        # Inside a savepoint: a concurrent sign-up with the same email loses cleanly.
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError as exc:
        raise AccountError(EMAIL_TAKEN) from exc
    return user


def announce_signup(user, now):
    """Queue the `signup` event once per account (the welcome message is sent from it)."""
    outbox.emit(OutboxEventType.SIGNUP, events.signup(user), f"signup:user:{user.id}", now)


def register_student(email, password, first_name, last_name, now):
    """A student's own sign-up: the account and its `signup` event; the caller commits."""
    user = create_user(email, password, role=Role.STUDENT, first_name=first_name, last_name=last_name)
    db.session.flush()
    announce_signup(user, now)
    return user


def authenticate(email, password, now):
    """The user with these credentials, or AccountError; records the login time."""
    user = User.find_by_email(email)
    if user is None:
        # As slow as a wrong password: the answer's timing must not tell which emails have an account.
        passwords.check_against_nothing(password)
        raise AccountError(INVALID_CREDENTIALS)
    if not user.check_password(password):
        raise AccountError(INVALID_CREDENTIALS)
    if user.status != UserStatus.ACTIVE:
        raise AccountError(SUSPENDED)
    user.last_login_at = now
    return user


def end_sessions_if_access_changed(user):
    """After an edit of the account: a new role or status signs it out everywhere; the caller commits."""
    if audit.changes(user, ACCESS_FIELDS) is not None:
        user.rotate_session_token()


def user_for_session(token):
    """The active account a session or remember-me cookie names, or None."""
    if not token:
        return None
    user = db.session.scalar(select(User).where(User.session_token == token))
    # A suspension takes effect on the next request, not at the next login.
    return user if user is not None and user.is_active else None


def landing_endpoint(user):
    """Back-office roles land in the admin, students on their dashboard."""
    return "admin.index" if user.role in BACK_OFFICE_ROLES else "public.dashboard"


def is_safe_next(target):
    """Only relative paths on this site may be redirected to after login."""
    if not target:
        return False
    parts = urlsplit(target)
    return (
        not parts.scheme
        and not parts.netloc
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and target.isprintable()  # a line break cannot go in the Location header
    )


def init_login(app, login_manager):
    """Wire Flask-Login to the User model."""
    login_manager.init_app(app)
    login_manager.login_view = "public.login"
    login_manager.login_message = "Veuillez vous connecter pour accéder à cette page."
    login_manager.login_message_category = "warning"

    # Cookies name the account by its session token (User.get_id), never by its id.
    login_manager.user_loader(user_for_session)


# The student's own account: profile and password

NAME_REQUIRED = "Le prénom et le nom sont obligatoires."
NAME_TOO_LONG = "Le prénom et le nom ne peuvent dépasser 100 caractères."
INVALID_PHONE = "Numéro de téléphone invalide : de 7 à 15 chiffres (ex. 514 555-0123, +1 514 555-0123 poste 12)."
WRONG_CURRENT_PASSWORD = "Le mot de passe actuel est incorrect."
MAX_NAME_LENGTH = 100
# Digits with the usual separators, an optional leading +, and an optional extension.
PHONE_SHAPE = re.compile(r"^\+?[0-9 ().\-]+?(?:\s*(?:x|ext\.?|poste)\s*[0-9]{1,6})?$", re.IGNORECASE)


def clean_phone(phone):
    """The phone number as typed, trimmed, or None when empty; AccountError when it cannot be one."""
    phone = " ".join((phone or "").split())
    if not phone:
        return None
    number = re.split(r"(?i)x|ext|poste", phone)[0]
    digits = sum(c.isdigit() for c in number)
    if len(phone) > 40 or not PHONE_SHAPE.match(phone) or not 7 <= digits <= 15:
        raise AccountError(INVALID_PHONE)
    return phone


def update_profile(user, first_name, last_name, phone):
    """Change the account's name and phone (the email is the office's to change); the caller commits."""
    first_name = " ".join((first_name or "").split())
    last_name = " ".join((last_name or "").split())
    if not first_name or not last_name:
        raise AccountError(NAME_REQUIRED)
    if len(first_name) > MAX_NAME_LENGTH or len(last_name) > MAX_NAME_LENGTH:
        raise AccountError(NAME_TOO_LONG)
    phone = clean_phone(phone)
    user.first_name, user.last_name, user.phone = first_name, last_name, phone
    return user


def change_password(user, current_password, new_password):
    """Replace the password once the current one is given; every other session of the account ends."""
    if not user.check_password(current_password or ""):
        raise AccountError(WRONG_CURRENT_PASSWORD)
    check_password_strength(new_password)
    user.set_password(new_password)  # rotates the session token
    return user

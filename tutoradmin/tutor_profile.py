"""A tutor's own profile: the presentation and contact details they keep; the office sets everything else."""

import re

from . import accounts
from .errors import DomainError
from .models import normalize_email

BIO_MAX_LENGTH = 2000
EMAIL_MAX_LENGTH = 254
BIO_TOO_LONG = f"La présentation ne peut dépasser {BIO_MAX_LENGTH} caractères."
INVALID_CONTACT_EMAIL = "Courriel de contact invalide (ex. prenom.nom@exemple.ca)."
# One @, something on each side, a dot in the domain, no spaces.
EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


class ProfileError(DomainError):
    """A profile change refused, with the reason."""


def update_contact(tutor, bio, contact_email, phone):
    """Change the tutor's presentation, contact email and phone (each cleaned); the caller commits."""
    bio = (bio or "").strip()
    if len(bio) > BIO_MAX_LENGTH:
        raise ProfileError(BIO_TOO_LONG)
    email = normalize_email(contact_email) or None
    if email is not None and (len(email) > EMAIL_MAX_LENGTH or not EMAIL_SHAPE.match(email)):
        raise ProfileError(INVALID_CONTACT_EMAIL)
    try:
        phone = accounts.clean_phone(phone)
    except accounts.AccountError as exc:
        raise ProfileError(exc.message) from exc
    tutor.bio, tutor.contact_email, tutor.phone = bio, email, phone
    return tutor

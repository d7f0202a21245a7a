"""Passwords: how they are hashed and checked, and which ones may not be chosen."""

import secrets
from functools import cache
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

MIN_PASSWORD_LENGTH = 8
TOO_SHORT = f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères."
TOO_COMMON = "Ce mot de passe est trop courant : choisissez-en un autre."

# Royce Williams' 20,000 most common passwords, lower-cased, as Django ships them
# (django/contrib/auth/common-passwords.txt.gz), followed by French and Québec favourites.
COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common_passwords.txt"


def hash_password(password):
    # scrypt is Werkzeug's default: memory-hard, salted.
    return generate_password_hash(password, method="scrypt")


def matches(password_hash, password):
    """Whether `password` is the one `password_hash` was made from."""
    return bool(password_hash) and check_password_hash(password_hash, password)


@cache
def _unused_hash():
    return hash_password(secrets.token_urlsafe(24))


def check_against_nothing(password):
    """Spend the time of a real check, so that an unknown email answers as slowly as a wrong password."""
    check_password_hash(_unused_hash(), password)


@cache
def common_passwords():
    return frozenset(COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines())


def is_common(password):
    return (password or "").strip().lower() in common_passwords()


def weakness(password):
    """Why `password` may not be chosen, in French, or None."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        return TOO_SHORT
    if is_common(password):
        return TOO_COMMON
    return None

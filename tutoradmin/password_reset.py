"""Forgotten passwords: a signed link, valid one hour and once, sent through the `password.reset_requested` event."""

import hashlib
from datetime import timedelta

from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from . import events, outbox
from .accounts import AccountError, check_password_strength
from .extensions import db
from .models import OutboxEventType, User

TOKEN_LIFETIME = timedelta(hours=1)
SALT = "tutoradmin.password-reset"
REQUEST_RECEIVED = (
    "Si un compte existe pour cette adresse, un lien pour choisir un nouveau mot de passe vient d'y être envoyé. "
    "Il est valide pendant une heure."
)
EXPIRED = "Ce lien a expiré : les liens de réinitialisation sont valides pendant une heure."
INVALID = "Ce lien n'est pas valide ou a déjà servi."


class ResetLinkError(AccountError):
    """A reset link that is expired, used, or was never ours."""


def _serializer(secret_key, now):
    """The token format, its clock set to `now` (so that tests and the expiry date agree on the time)."""

    class Signer(TimestampSigner):
        def get_timestamp(self):
            return int(now.timestamp())

    return URLSafeTimedSerializer(secret_key, salt=SALT, signer=Signer)


def _fingerprint(user):
    # A new password or session token changes it: using the link, or signing out everywhere, spends it.
    return hashlib.sha256(f"{user.password_hash}|{user.session_token}".encode()).hexdigest()[:20]


def make_token(user, secret_key, now):
    """A link token naming the account and the state of its password at `now`."""
    return _serializer(secret_key, now).dumps([user.id, _fingerprint(user)])


def user_for_token(token, secret_key, now):
    """The active account a token names, or ResetLinkError when it is expired, spent or forged."""
    try:
        user_id, fingerprint = _serializer(secret_key, now).loads(token, max_age=int(TOKEN_LIFETIME.total_seconds()))
    except SignatureExpired as exc:
        raise ResetLinkError(EXPIRED) from exc
    except (BadData, TypeError, ValueError) as exc:
        raise ResetLinkError(INVALID) from exc
    user = db.session.get(User, user_id) if isinstance(user_id, int) and not isinstance(user_id, bool) else None
    if user is None or not user.is_active or not isinstance(fingerprint, str) or fingerprint != _fingerprint(user):
        raise ResetLinkError(INVALID)
    return user


def request_reset(email, link_for, secret_key, now):
    """Queue a reset link for the active account with this email, if any; the caller commits.

    `link_for(token)` gives the absolute URL of the reset page. Returns the queued event, or None when
    nothing was sent: the page says the same either way.
    """
    user = User.find_by_email(email)
    if user is None or not user.is_active:
        # Neither way hashes a password (unlike a login, see accounts.authenticate): one lookup either
        # way, the insert of an event apart, which the rate limit keeps an attacker from averaging out.
        return None
    token = make_token(user, secret_key, now)
    expires_at = now.replace(microsecond=0) + TOKEN_LIFETIME
    payload = events.password_reset_requested(user, link_for(token), expires_at)
    # One event per request: the token's signature differs with the time and the password's state.
    dedupe_key = f"password.reset_requested:user:{user.id}:{int(now.timestamp())}:{token.rsplit('.', 1)[-1][:16]}"
    return outbox.emit(OutboxEventType.PASSWORD_RESET_REQUESTED, payload, dedupe_key, now)


def reset_password(token, new_password, secret_key, now):
    """Choose a new password through a link: it is spent, and the account is signed out everywhere."""
    user = user_for_token(token, secret_key, now)
    check_password_strength(new_password)
    user.set_password(new_password)
    return user

"""Rate limits of the public site: password guessing, account creation, and requests for reset links.

Addresses are the clients' own: behind a proxy, TRUSTED_PROXIES makes ProxyFix read them.
"""

import hashlib

from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

from ..extensions import limiter
from ..models import normalize_email


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


def _signup_limit():
    return current_app.config["SIGNUP_RATE_LIMIT"]


def _account_and_address():
    # Hashed: the typed email is unbounded, a storage key should not be.
    account = hashlib.sha256(normalize_email(request.form.get("email")).encode()).hexdigest()
    return f"login:{account}:{get_remote_address()}"


def _failed_login(response):
    # The login form answers 302 when it signs in, 400 when it refuses (and 429 when limited).
    return response.status_code == 400


def login_limits(view):
    """Every attempt counts per address; failures also count per account and address.

    Counting failures per account alone would let anyone lock the owner out by typing wrong
    passwords from elsewhere: the owner, from an address with no failures, still signs in.
    """
    view = limiter.limit(_login_limit, methods=["POST"], key_func=_account_and_address, deduct_when=_failed_login)(view)
    return limiter.limit(_login_limit, methods=["POST"])(view)


def _signed_in():
    return current_user.is_authenticated


#: Sign-up and a guest's checkout both create accounts: one budget per address for both.
signup_limit = limiter.shared_limit(_signup_limit, scope="account-creation", methods=["POST"])
guest_checkout_limit = limiter.shared_limit(
    _signup_limit, scope="account-creation", methods=["POST"], exempt_when=_signed_in
)


def _password_reset_limit():
    return current_app.config["PASSWORD_RESET_RATE_LIMIT"]


def _reset_account():
    account = hashlib.sha256(normalize_email(request.form.get("email")).encode()).hexdigest()
    return f"password-reset:{account}"


def password_reset_limits(view):
    """Reset requests count per address and per account: nobody floods a mailbox with links."""
    view = limiter.limit(_password_reset_limit, methods=["POST"], key_func=_reset_account)(view)
    return limiter.limit(_password_reset_limit, methods=["POST"])(view)


def _signed_in_account():
    return f"password-change:{current_user.id}" if current_user.is_authenticated else get_remote_address()


def change_password_limits(view):
    """Like the login: every attempt counts per address, wrong current passwords also per account."""
    view = limiter.limit(_login_limit, methods=["POST"], key_func=_signed_in_account, deduct_when=_failed_login)(view)
    return limiter.limit(_login_limit, methods=["POST"])(view)


def _message_limit():
    return current_app.config["MESSAGE_RATE_LIMIT"]


def _writer():
    # Every page that writes a message requires a signed-in account; the address is a fallback only.
    return f"message:{current_user.id}" if current_user.is_authenticated else get_remote_address()


#: Messages about sessions, new tickets and ticket replies share one budget per account (SPEC §8b).
message_limit = limiter.shared_limit(_message_limit, scope="messages", methods=["POST"], key_func=_writer)

"""Application settings, read from the environment (the only module that does)."""

import os
import secrets
from pathlib import Path

from .localtime import TIMEZONE_NAME
from .models.integrations import EVENT_FAMILY_NAMES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"


class ConfigError(RuntimeError):
    """The environment does not allow the application to start safely."""


def _int(env, name, default):
    value = env.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} doit être un entier (reçu {value!r}).") from exc


def _proxies(env):
    count = _int(env, "TRUSTED_PROXIES", 0)
    if count < 0:
        raise ConfigError(f"TRUSTED_PROXIES doit être un entier positif ou nul (reçu {count}).")
    return count


def _rate_limit_storage(env, production):
    uri = env.get("RATELIMIT_STORAGE_URI") or "memory://"
    if production and uri.startswith("memory://"):
        # In memory, each server process keeps its own counters: the limits multiply with the workers.
        raise ConfigError(
            "RATELIMIT_STORAGE_URI doit désigner un stockage partagé en production "
            "(par exemple redis://127.0.0.1:6379), pas memory://."
        )
    return uri


def _attachment_storage(env):
    backend = env.get("ATTACHMENT_STORAGE") or "database"
    if backend not in ("database", "s3"):
        raise ConfigError(f"ATTACHMENT_STORAGE doit valoir database ou s3 (reçu {backend!r}).")
    bucket = env.get("ATTACHMENT_S3_BUCKET") or None
    if backend == "s3" and not bucket:
        raise ConfigError("ATTACHMENT_S3_BUCKET est obligatoire quand ATTACHMENT_STORAGE vaut s3.")
    return {
        "ATTACHMENT_STORAGE": backend,
        "ATTACHMENT_S3_BUCKET": bucket,
        # Empty: Amazon S3 itself; otherwise any S3-compatible service (MinIO, Ceph, a provider's store).
        "ATTACHMENT_S3_ENDPOINT_URL": env.get("ATTACHMENT_S3_ENDPOINT_URL") or None,
        "ATTACHMENT_S3_REGION": env.get("ATTACHMENT_S3_REGION") or "ca-central-1",
        # Empty: boto3's usual credential chain (instance role, AWS_* variables, ~/.aws).
        "ATTACHMENT_S3_ACCESS_KEY_ID": env.get("ATTACHMENT_S3_ACCESS_KEY_ID") or None,
        "ATTACHMENT_S3_SECRET_ACCESS_KEY": env.get("ATTACHMENT_S3_SECRET_ACCESS_KEY") or None,
    }


def _database_url(env):
    url = env.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'tutoradmin.sqlite3'}"
    # Hosting providers still hand out the legacy scheme; SQLAlchemy wants the driver named.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _development_secret_key():
    """A random key kept under instance/ so that local sessions survive restarts."""
    path = INSTANCE_DIR / "dev_secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key)
        path.chmod(0o600)
        return key


def _public_base_url(env, production):
    url = (env.get("PUBLIC_BASE_URL") or "").strip().rstrip("/")
    if not url:
        if production:
            raise ConfigError("PUBLIC_BASE_URL est obligatoire en production (ex. https://reservation.4as.ca).")
        return "http://127.0.0.1:5000"
    if not url.startswith(("https://", "http://")) or (production and not url.startswith("https://")):
        raise ConfigError(f"PUBLIC_BASE_URL doit être une adresse https:// (reçu {url!r}).")
    return url


def _webhook_urls(env):
    """The outbox's destinations: {family: URL}, "*" for every family without its own."""
    urls = {"*": env.get("OUTBOX_WEBHOOK_URL") or None}
    for family in EVENT_FAMILY_NAMES:
        urls[family] = env.get(f"OUTBOX_WEBHOOK_URL_{family}") or None
    for name, url in urls.items():
        if url and not url.startswith(("https://", "http://")):
            variable = "OUTBOX_WEBHOOK_URL" if name == "*" else f"OUTBOX_WEBHOOK_URL_{name}"
            raise ConfigError(f"{variable} doit être une adresse http(s):// (reçu {url!r}).")
    return urls


def _signing_secret(env, production, secret_key, urls):
    secret = env.get("OUTBOX_SIGNING_SECRET") or None
    if secret is None and production and any(urls.values()):
        # Unsigned, a receiver could not tell our events from anyone's.
        raise ConfigError(
            "OUTBOX_SIGNING_SECRET est obligatoire en production dès qu'une URL OUTBOX_WEBHOOK_URL est définie."
        )
    return secret or secret_key


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _log_level(env):
    level = (env.get("LOG_LEVEL") or "INFO").strip().upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL doit être l'un de {', '.join(LOG_LEVELS)} (reçu {level!r}).")
    return level


def is_production(env):
    """Whether the environment declares a production deployment."""
    return "production" in (env.get("TUTORADMIN_ENV"), env.get("FLASK_ENV"))


def load_config(env=None):
    """Build the settings dictionary from environment variables."""
    env = os.environ if env is None else env
    production = is_production(env)
    secret_key = env.get("SECRET_KEY")
    if not secret_key:
        if production:
            raise ConfigError("SECRET_KEY est obligatoire en production.")
        secret_key = _development_secret_key()
    if production and not (env.get("STRIPE_SECRET_KEY") and env.get("STRIPE_WEBHOOK_SECRET")):
        # Without them the simulator takes payments, and its test card page lets anyone pick "success".
        raise ConfigError("STRIPE_SECRET_KEY et STRIPE_WEBHOOK_SECRET sont obligatoires en production.")

    webhook_urls = _webhook_urls(env)
    return {
        "PRODUCTION": production,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": _database_url(env),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Cookies: never read by scripts, not sent by other sites' forms, HTTPS only in production.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        # How many reverse proxies (TLS terminator, load balancer) stand in front of the app and
        # set X-Forwarded-For/-Proto/-Host; 0 trusts none of those headers.
        "TRUSTED_PROXIES": _proxies(env),
        "WTF_CSRF_TIME_LIMIT": None,
        # Payments: without keys the simulated gateway takes payments offline.
        "STRIPE_SECRET_KEY": env.get("STRIPE_SECRET_KEY") or None,
        "STRIPE_PUBLISHABLE_KEY": env.get("STRIPE_PUBLISHABLE_KEY") or None,
        "STRIPE_WEBHOOK_SECRET": env.get("STRIPE_WEBHOOK_SECRET") or None,
        "STRIPE_API_BASE": env.get("STRIPE_API_BASE") or None,
        "SIMULATED_WEBHOOK_SECRET": env.get("SIMULATED_WEBHOOK_SECRET") or secret_key,
        # Rate limits: in-memory per process in development; production needs shared storage (Redis).
        "RATELIMIT_STORAGE_URI": _rate_limit_storage(env, production),
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT") or "10 per minute;50 per hour",
        # Accounts created per address, by sign-up and guest checkout together.
        "SIGNUP_RATE_LIMIT": env.get("SIGNUP_RATE_LIMIT") or "10 per minute;30 per hour",
        # Absolute links in outbound events (emails are written from them).
        "PUBLIC_BASE_URL": _public_base_url(env, production),
        # Outbound events (SPEC §11): where each family of events is posted, and the key that signs them.
        "OUTBOX_WEBHOOK_URLS": webhook_urls,
        "OUTBOX_SIGNING_SECRET": _signing_secret(env, production, secret_key, webhook_urls),
        "LOG_LEVEL": _log_level(env),
        "SENTRY_DSN": env.get("SENTRY_DSN") or None,
        # Password reset requests per address and per account (the answer never says whether an account exists).
        "PASSWORD_RESET_RATE_LIMIT": env.get("PASSWORD_RESET_RATE_LIMIT") or "5 per hour",
        # Who issues the receipts (SPEC §8: no taxes are charged).
        "BUSINESS_NAME": env.get("BUSINESS_NAME") or "4AS Tutorat",
        "BUSINESS_ADDRESS": env.get("BUSINESS_ADDRESS") or "Montréal (Québec), Canada",
        # What a student may still do online before a session starts (SPEC §8).
        "CANCELLATION_NOTICE_HOURS": _int(env, "CANCELLATION_NOTICE_HOURS", 2),
        "RESCHEDULE_NOTICE_HOURS": _int(env, "RESCHEDULE_NOTICE_HOURS", 24),
        # Attachments (SPEC §8b): in the database unless an S3-compatible store is named (storage.py).
        **_attachment_storage(env),
        # Messages and ticket replies per account (a person writes; a script floods).
        "MESSAGE_RATE_LIMIT": env.get("MESSAGE_RATE_LIMIT") or "20 per minute;200 per day",
        # Sessions left unmarked this long after their end are marked attended (SPEC §10, complete-appointments).
        "ATTENDANCE_GRACE_HOURS": _int(env, "ATTENDANCE_GRACE_HOURS", 48),
        # Booking rules (SPEC §4, §6).
        "BOOKING_LEAD_TIME_HOURS": _int(env, "BOOKING_LEAD_TIME_HOURS", 12),
        "BOOKING_HORIZON_DAYS": _int(env, "BOOKING_HORIZON_DAYS", 60),
        "HOLD_MINUTES": _int(env, "HOLD_MINUTES", 15),
        # How long a computed calendar may be shown to other visitors (0: never kept); see booking_cache.py.
        "CALENDAR_CACHE_SECONDS": _int(env, "CALENDAR_CACHE_SECONDS", 3),
        # Flask-Babel's time zone, the business's (localtime.py). French (Canada) and CAD are not settings:
        # formatting.py fixes them.
        "TIMEZONE": TIMEZONE_NAME,
    }

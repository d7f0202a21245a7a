"""Settings come from the environment, with safe defaults and a refusal in production."""

import re

import pytest

from tutoradmin.config import PROJECT_ROOT, ConfigError, load_config

PACKAGE = PROJECT_ROOT / "tutoradmin"
# Settings that Flask and its extensions read themselves.
LIBRARY_SETTINGS = ("SECRET_KEY", "SESSION_COOKIE_", "REMEMBER_COOKIE_", "SQLALCHEMY_", "WTF_CSRF_", "RATELIMIT_")


def test_production_refuses_to_start_without_a_secret_key():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config({"TUTORADMIN_ENV": "production"})
    with pytest.raises(ConfigError):
        load_config({"FLASK_ENV": "production", "SECRET_KEY": ""})


STRIPE = {"STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"}
PRODUCTION = {
    "TUTORADMIN_ENV": "production",
    "SECRET_KEY": "k" * 40,
    "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
    "PUBLIC_BASE_URL": "https://reservation.4as.ca",
    **STRIPE,
}


def test_production_refuses_to_start_with_the_payment_simulator():
    with pytest.raises(ConfigError, match="STRIPE_SECRET_KEY et STRIPE_WEBHOOK_SECRET"):
        load_config({"TUTORADMIN_ENV": "production", "SECRET_KEY": "k" * 40})
    with pytest.raises(ConfigError, match="STRIPE_WEBHOOK_SECRET"):
        load_config({"TUTORADMIN_ENV": "production", "SECRET_KEY": "k" * 40, "STRIPE_SECRET_KEY": "sk_live_x"})


@pytest.mark.parametrize("storage", [None, "", "memory://"])
def test_production_refuses_to_start_with_rate_limits_counted_per_process(storage):
    env = {**PRODUCTION, "RATELIMIT_STORAGE_URI": storage}
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI"):
        load_config({k: v for k, v in env.items() if v is not None})


def test_production_with_a_key_uses_secure_cookies():
    config = load_config(PRODUCTION)
    assert config["SECRET_KEY"] == "k" * 40
    assert config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379"
    for cookie in ("SESSION", "REMEMBER"):
        assert config[f"{cookie}_COOKIE_SECURE"] is True
        assert config[f"{cookie}_COOKIE_HTTPONLY"] is True
        assert config[f"{cookie}_COOKIE_SAMESITE"] == "Lax"


def test_development_cookies_work_over_plain_http_but_stay_lax_and_http_only():
    config = load_config({})
    for cookie in ("SESSION", "REMEMBER"):
        assert config[f"{cookie}_COOKIE_SECURE"] is False
        assert (config[f"{cookie}_COOKIE_HTTPONLY"], config[f"{cookie}_COOKIE_SAMESITE"]) == (True, "Lax")


def test_no_proxy_is_trusted_unless_configured():
    assert load_config({})["TRUSTED_PROXIES"] == 0
    assert load_config({"TRUSTED_PROXIES": "1"})["TRUSTED_PROXIES"] == 1


@pytest.mark.parametrize("value", ["-1", "un", "1.5"])
def test_trusted_proxies_must_be_a_count(value):
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        load_config({"TRUSTED_PROXIES": value})


def test_development_generates_a_stable_key():
    assert load_config({})["SECRET_KEY"] == load_config({})["SECRET_KEY"]
    assert len(load_config({})["SECRET_KEY"]) >= 32


def test_sqlite_under_instance_is_the_default_database():
    url = load_config({})["SQLALCHEMY_DATABASE_URI"]
    assert url.startswith("sqlite:///") and url.endswith("instance/tutoradmin.sqlite3")


@pytest.mark.parametrize("given", ["postgres://u@h/db", "postgresql://u@h/db"])
def test_postgresql_urls_use_the_psycopg_driver(given):
    assert load_config({"DATABASE_URL": given})["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_without_stripe_keys_payments_are_simulated():
    config = load_config({})
    assert config["STRIPE_SECRET_KEY"] is None and config["STRIPE_WEBHOOK_SECRET"] is None


def test_booking_rules_have_the_business_defaults():
    config = load_config({})
    assert (config["BOOKING_LEAD_TIME_HOURS"], config["BOOKING_HORIZON_DAYS"], config["HOLD_MINUTES"]) == (12, 60, 15)
    assert config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert config["SIGNUP_RATE_LIMIT"] == "10 per minute;30 per hour"


def test_booking_rules_can_be_changed_and_must_be_integers():
    assert load_config({"HOLD_MINUTES": "20"})["HOLD_MINUTES"] == 20
    with pytest.raises(ConfigError, match="HOLD_MINUTES"):
        load_config({"HOLD_MINUTES": "vingt"})


def test_every_setting_is_used_by_the_application_not_only_shown():
    # The settings page displays values; a setting it alone reads would be presented as in force for nothing.
    readers = [
        path for path in PACKAGE.rglob("*.py") if path not in (PACKAGE / "config.py", PACKAGE / "views" / "settings.py")
    ]
    sources = "\n".join(path.read_text(encoding="utf-8") for path in readers)

    unused = [key for key in load_config({}) if not key.startswith(LIBRARY_SETTINGS) and f'"{key}"' not in sources]

    assert unused == []


def test_every_variable_the_readme_documents_is_read_from_the_environment():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = {
        name
        for row in table.splitlines()
        if row.startswith("| `")
        for name in re.findall(r"`([A-Z_]+)`", row.split("|")[1])
    }
    config_source = (PACKAGE / "config.py").read_text(encoding="utf-8")

    assert len(documented) > 10
    assert sorted(name for name in documented - {"TEST_DATABASE_URL"} if f'"{name}"' not in config_source) == []


def test_production_needs_the_public_address_for_the_links_in_emails():
    env = {k: v for k, v in PRODUCTION.items() if k != "PUBLIC_BASE_URL"}
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        load_config(env)
    with pytest.raises(ConfigError, match="https"):
        load_config({**PRODUCTION, "PUBLIC_BASE_URL": "http://reservation.4as.ca"})
    assert load_config({**PRODUCTION, "PUBLIC_BASE_URL": "https://x.ca/"})["PUBLIC_BASE_URL"] == "https://x.ca"
    assert load_config({})["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"


def test_production_refuses_to_post_events_unsigned():
    with pytest.raises(ConfigError, match="OUTBOX_SIGNING_SECRET"):
        load_config({**PRODUCTION, "OUTBOX_WEBHOOK_URL_BOOKING": "https://hook.make.com/abc"})
    config = load_config({**PRODUCTION, "OUTBOX_WEBHOOK_URL": "https://hook.make.com/a", "OUTBOX_SIGNING_SECRET": "s"})
    assert config["OUTBOX_SIGNING_SECRET"] == "s"
    # Without any URL nothing is sent, so nothing needs signing.
    assert load_config(PRODUCTION)["OUTBOX_WEBHOOK_URLS"]["*"] is None


def test_each_event_family_may_have_its_own_webhook_url():
    urls = load_config(
        {"OUTBOX_WEBHOOK_URL": "https://hook.example/all", "OUTBOX_WEBHOOK_URL_TICKET": "https://hook.example/t"}
    )["OUTBOX_WEBHOOK_URLS"]
    assert urls["*"] == "https://hook.example/all"
    assert urls["TICKET"] == "https://hook.example/t"
    assert urls["BOOKING"] is None
    with pytest.raises(ConfigError, match="OUTBOX_WEBHOOK_URL_COURSE"):
        load_config({"OUTBOX_WEBHOOK_URL_COURSE": "ftp://x"})


@pytest.mark.parametrize("level", ["bavard", "5"])
def test_log_level_must_be_a_level_name(level):
    assert load_config({"LOG_LEVEL": "warning"})["LOG_LEVEL"] == "WARNING"
    with pytest.raises(ConfigError, match="LOG_LEVEL"):
        load_config({"LOG_LEVEL": level})

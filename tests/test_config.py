"""Settings come from the environment, with safe defaults and a refusal in production."""

import pytest

from tutoradmin.config import ConfigError, load_config


def test_production_refuses_to_start_without_a_secret_key():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config({"TUTORADMIN_ENV": "production"})
    with pytest.raises(ConfigError):
        load_config({"FLASK_ENV": "production", "SECRET_KEY": ""})


STRIPE = {"STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"}


def test_production_refuses_to_start_with_the_payment_simulator():
    with pytest.raises(ConfigError, match="STRIPE_SECRET_KEY et STRIPE_WEBHOOK_SECRET"):
        load_config({"TUTORADMIN_ENV": "production", "SECRET_KEY": "k" * 40})
    with pytest.raises(ConfigError, match="STRIPE_WEBHOOK_SECRET"):
        load_config({"TUTORADMIN_ENV": "production", "SECRET_KEY": "k" * 40, "STRIPE_SECRET_KEY": "sk_live_x"})


def test_production_with_a_key_uses_secure_cookies():
    config = load_config({"TUTORADMIN_ENV": "production", "SECRET_KEY": "k" * 40, **STRIPE})
    assert config["SECRET_KEY"] == "k" * 40
    assert config["SESSION_COOKIE_SECURE"] is True


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
    assert (
        config["BOOKING_LEAD_TIME_HOURS"], config["BOOKING_HORIZON_DAYS"], config["HOLD_MINUTES"],
        config["CANCELLATION_NOTICE_HOURS"], config["RESCHEDULE_NOTICE_HOURS"],
    ) == (12, 60, 15, 2, 24)
    assert config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_booking_rules_can_be_changed_and_must_be_integers():
    assert load_config({"HOLD_MINUTES": "20"})["HOLD_MINUTES"] == 20
    with pytest.raises(ConfigError, match="HOLD_MINUTES"):
        load_config({"HOLD_MINUTES": "vingt"})

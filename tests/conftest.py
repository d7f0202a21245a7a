"""Fixtures: an app per test on SQLite and (when TEST_DATABASE_URL is set) PostgreSQL."""

import os

import pytest
from flask import g
from sqlalchemy import create_engine, text

from tutoradmin import create_app
from tutoradmin.extensions import db as _db
from tutoradmin.extensions import limiter
from tutoradmin.integrity import broken_invariants
from tutoradmin.models import utcnow
from tutoradmin.payments import get_gateway

from . import factories
from .factories import DEFAULT_PASSWORD
from .fake_stripe import fake_stripe, fake_stripe_server  # noqa: F401  (fixtures)
from .shopping import make_offer

POSTGRES_SKIP_REASON = (
    "TEST_DATABASE_URL is not set: PostgreSQL tests skipped "
    "(e.g. TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test)"
)


def postgres_url():
    return os.environ.get("TEST_DATABASE_URL")


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    """Each test runs once per database; PostgreSQL only when configured."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite3'}"
    url = postgres_url()
    if not url:
        pytest.skip(POSTGRES_SKIP_REASON)
    return url


@pytest.fixture(scope="session")
def _schema(database_url):
    """Create the tables once per database and session."""
    app = create_app(_test_config(database_url))
    with app.app_context():
        _db.drop_all()
        _drop_alembic_version()
        _db.create_all()
        _db.engine.dispose()
    return database_url


def _drop_alembic_version():
    with _db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def _test_config(database_url, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": "localhost",
        # Calendars computed afresh on every request, unless a test sets a lifetime (test_booking_cache.py).
        "CALENDAR_CACHE_SECONDS": 0,
    }
    config.update(overrides)
    return config


def _empty_tables():
    """Delete every row, children first (cheaper than TRUNCATE on mostly empty tables)."""
    with _db.engine.begin() as conn:
        for table in reversed(_db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def app_config(request):
    """Per-test settings, from `@pytest.mark.app_config(KEY=value)`."""
    marker = request.node.get_closest_marker("app_config")
    return dict(marker.kwargs) if marker else {}


_apps = {}


def _build_app(database_url, app_config):
    """One app per database and settings, reused by the tests that share them.

    Building the back office registers a few hundred URL rules, which costs far more than
    a test; the data, not the app, is what each test must start afresh with.
    """
    key = (database_url, repr(sorted(app_config.items())))
    if key not in _apps:
        app = create_app(_test_config(database_url, **app_config))

        @app.before_request
        def _forget_cached_user():
            # Test requests reuse the test's app context, and so `g`, where Flask-Login caches
            # the user and Flask-WTF the CSRF token; a real request starts without them.
            # Reload both from the cookie.
            g.pop("_login_user", None)
            g.pop("csrf_token", None)

        _apps[key] = app
    return _apps[key]


@pytest.fixture
def app(_schema, app_config, request):
    app = _build_app(_schema, app_config)
    settings = dict(app.config)
    # The limiter is one object for every app: give it this app's setting and fresh counters.
    limiter.enabled = app.config["RATELIMIT_ENABLED"]
    if limiter.enabled:
        limiter.reset()
    with app.app_context():
        yield app
        _db.session.remove()
        # Whatever a test did through the product, the invariants of `flask check-integrity` hold after it.
        broken = {} if request.node.get_closest_marker("bare_rows") else broken_invariants()
        _empty_tables()
        if broken:
            pytest.fail(
                f"Invariants of tutoradmin/integrity.py broken after the test: {broken} "
                "(mark the test `bare_rows` if it writes such rows on purpose)"
            )
        _db.engine.dispose()
    # A test may change a setting (the live server does); the next test gets them back.
    app.config.clear()
    app.config.update(settings)


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make(db):
    """Factories for test data: make.user(role="tutor"), make.course(), ..."""
    return factories.Factories(db)


@pytest.fixture
def now():
    return utcnow()


@pytest.fixture
def offer(db, make, now):
    """A course whose two tutors are free every day, and a day a week after `now` (tests.shopping)."""
    return make_offer(db, make, now)


@pytest.fixture
def gateway(app):
    """The application's gateway: the simulator, as the tests set no Stripe key."""
    return get_gateway(app.config)


@pytest.fixture
def login(client):
    """Log the test client in as `user` through the real login form."""

    def _login(user, password=DEFAULT_PASSWORD):
        response = client.post("/connexion", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    return _login


@pytest.fixture
def login_as(make, login):
    """Create a user with `role` (a tutor also gets a tutor profile) and log in."""

    def _login_as(role, **fields):
        user = make.tutor(**fields).user if role == "tutor" else make.user(role=role, **fields)
        login(user)
        return user

    return _login_as


@pytest.fixture
def quiet(db):
    """For race tests: start racing with no transaction open in the test, and check every connection came back."""

    def _quiet():
        db.session.commit()
        db.session.close()

    yield _quiet
    db.session.close()
    assert db.engine.pool.checkedout() == 0


@pytest.fixture
def pg_engine(database_url):
    """A raw engine for tests that need PostgreSQL specifically."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL-only test")
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    yield engine
    engine.dispose()


def pytest_report_header(config):
    if postgres_url():
        return "databases: SQLite and PostgreSQL (TEST_DATABASE_URL)"
    return f"databases: SQLite only — {POSTGRES_SKIP_REASON}"


def pytest_terminal_summary(terminalreporter):
    """Skip reasons, each once with its count, instead of one line per test."""
    reasons = {}
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reasons[reason] = reasons.get(reason, 0) + 1
    if reasons:
        terminalreporter.section("skipped tests")
        for reason, count in sorted(reasons.items()):
            terminalreporter.line(f"{count} × {reason.removeprefix('Skipped: ')}")

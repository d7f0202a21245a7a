"""PostgreSQL sessions: in UTC, and a request's transaction ends with COMMIT when it only read, else ROLLBACK.

psycopg forgets (and deallocates) a connection's prepared statements at every ROLLBACK; a request
that only read ends with COMMIT instead, so that the statements the site runs all the time stay
prepared from one request to the next. These tests use an app of their own: its requests push
their own app context and end it, as in production (the `app` fixture's context outlives requests).
"""

from datetime import UTC

import pytest
from sqlalchemy import event, func, select, text

from tutoradmin import create_app
from tutoradmin.database import reads_only
from tutoradmin.extensions import db as _db
from tutoradmin.models import CartItem, Hold

from .booking_requests import add_json, course_offer
from .conftest import _test_config


@pytest.fixture
def separate_app(app, db, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL-only test: SQLite has no prepared statements to keep")
    other = create_app(_test_config(database_url))
    endings = []
    with other.app_context():
        engine = _db.engine
    event.listen(engine, "commit", lambda _connection: endings.append("COMMIT"))
    event.listen(engine, "rollback", lambda _connection: endings.append("ROLLBACK"))
    yield other, endings
    engine.dispose()


def _prepared(other):
    # The requests ran one at a time: the pool has one connection, the one this reads on.
    with other.app_context():
        count = _db.session.scalar(text("SELECT count(*) FROM pg_prepared_statements"))
        _db.session.rollback()
        return count


@pytest.fixture
def shopper(separate_app, db, make):
    """A guest of the separate app with one slot in their cart: (app, their client, the course offer, endings)."""
    other, endings = separate_app
    client = other.test_client()
    offer = course_offer(db, make)
    assert add_json(client, offer).status_code == 200
    endings.clear()
    return other, client, offer, endings


def test_pages_that_only_read_end_with_commit_and_keep_the_prepared_statements(shopper):
    other, client, _offer, endings = shopper

    for _ in range(6):
        assert client.get("/panier").status_code == 200

    assert endings == ["COMMIT"] * 6
    # psycopg prepares a statement at its fifth run: the cart page's survived the requests.
    assert _prepared(other) > 0


def test_a_refused_write_still_ends_with_rollback_and_changes_nothing(shopper, db):
    _other, client, offer, endings = shopper

    # The same slot again: refused after the add has started writing (the sweep), so rolled back.
    response = add_json(client, offer)

    assert response.status_code == 409, response.get_data(as_text=True)
    assert endings[-1] == "ROLLBACK" and "COMMIT" not in endings
    assert db.session.scalar(select(func.count()).select_from(CartItem)) == 1


@pytest.mark.parametrize(
    ("statement", "only_reads"),
    [
        ("SELECT id FROM carts WHERE id = 1", True),
        ("\n SELECT updated_at, deleted FROM carts", True),
        ("SELECT id FROM carts FOR UPDATE", False),
        ("WITH new_hold AS (INSERT INTO holds DEFAULT VALUES RETURNING id) SELECT id FROM new_hold", False),
        ("INSERT INTO carts DEFAULT VALUES", False),
        ("DELETE FROM holds", False),
        ("select 1; delete from holds", False),
        ("SET TIME ZONE 'UTC'", False),
    ],
)
def test_only_a_plain_select_counts_as_reading_only(statement, only_reads):
    assert reads_only(statement) is only_reads


def test_connections_speak_utc_and_read_instants_in_it(db, make, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL-only test: SQLite stores naive UTC")
    offer = course_offer(db, make)
    hold = Hold(tutor_id=offer.best.id, starts_at=offer.start(), ends_at=offer.start(11), expires_at=offer.start())
    db.session.add(hold)
    db.session.flush()

    assert db.session.scalar(text("SHOW TIME ZONE")) == "UTC"
    starts_at = db.session.scalar(select(Hold.starts_at).where(Hold.id == hold.id))
    # psycopg's own fixed UTC offset, not a zoneinfo zone: the fast way to read timestamps.
    assert starts_at.tzinfo is UTC and starts_at == offer.start()
    db.session.rollback()

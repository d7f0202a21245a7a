"""On SQLite as on PostgreSQL, a savepoint taken before any change stays inside the transaction it belongs to."""

from sqlalchemy import func, select

from tutoradmin.extensions import db
from tutoradmin.models import GatewayEvent


def test_a_released_savepoint_is_undone_with_its_transaction(app):
    db.session.scalar(select(func.count()).select_from(GatewayEvent))  # a read first: no transaction yet on SQLite
    with db.session.begin_nested():
        db.session.add(GatewayEvent(provider="stripe", event_id="evt_1", event_type="x", payload={}))
    db.session.rollback()

    assert db.session.scalar(select(func.count()).select_from(GatewayEvent)) == 0

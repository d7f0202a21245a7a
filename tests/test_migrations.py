"""`flask db upgrade` on an empty database gives exactly the models' schema."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from tutoradmin import create_app
from tutoradmin.extensions import db

from .factories import Factories


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    """A brand-new, empty database of the same kind as `database_url`."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    name = f"tutoradmin_migrations_{uuid.uuid4().hex[:8]}"
    server = create_engine(make_url(database_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture
def migrated_app(empty_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_upgrade_creates_exactly_the_models_schema(migrated_app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_upgrade_creates_every_table_and_check_constraint(migrated_app):
    inspector = inspect(db.engine)
    assert set(db.metadata.tables) <= set(inspector.get_table_names())
    for table in db.metadata.sorted_tables:
        expected = {c.name for c in table.constraints if c.__class__.__name__ == "CheckConstraint"}
        found = {c["name"] for c in inspector.get_check_constraints(table.name)}
        assert expected <= found, table.name


def test_downgrade_removes_everything(migrated_app):
    downgrade(revision="base")
    remaining = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert remaining == set()


def test_the_migrated_database_refuses_two_overlapping_sessions_of_one_tutor(migrated_app):
    make = Factories(db)
    tutor = make.tutor(courses=[make.course()])
    start = datetime(2027, 3, 1, 15, tzinfo=UTC)
    make.appointment(tutor=tutor, course=tutor.courses[0], starts_at=start)
    make.appointment(tutor=tutor, course=tutor.courses[0], starts_at=start, status="cancelled", cancelled_at=start)
    db.session.commit()
    with pytest.raises(IntegrityError):
        make.appointment(tutor=tutor, course=tutor.courses[0], starts_at=start + timedelta(minutes=30))
    db.session.rollback()


def test_upgrade_creates_the_guards_the_schema_comparison_cannot_see(migrated_app):
    """Triggers and exclusion constraints escape `compare_metadata`: the migrated database refuses all the same."""
    from datetime import time

    from sqlalchemy.exc import IntegrityError

    from tutoradmin.models import CreditEntry, Tutor, User, WeeklyRule

    account = User(email="garde@example.com", password_hash="x", role="tutor")
    tutor = Tutor(user=account, display_name="Garde", hourly_rate_cents=2500)
    db.session.add_all(
        [
            tutor,
            WeeklyRule(tutor=tutor, weekday=0, start_time=time(9), end_time=time(12)),
            CreditEntry(user=account, kind="credit", amount_cents=1000, reason="Geste"),
        ]
    )
    db.session.commit()
    for row in (
        WeeklyRule(tutor_id=tutor.id, weekday=0, start_time=time(11), end_time=time(13)),
        CreditEntry(user_id=account.id, kind="debit", amount_cents=1001, reason="Utilisé"),
    ):
        db.session.add(row)
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_the_migrated_outbox_accepts_every_event_type_and_status_and_nothing_else(migrated_app):
    """CHECK constraint texts escape `compare_metadata` too: every value the models allow must be insertable."""
    from tutoradmin.models import DisputeStatus, OutboxEvent, OutboxEventType, OutboxStatus

    now = datetime(2027, 3, 1, 15, tzinfo=UTC)
    for number, event_type in enumerate(OutboxEventType.values()):
        status = OutboxStatus.values()[number % len(OutboxStatus)]
        delivered_at = now if status == OutboxStatus.DELIVERED else None
        db.session.add(OutboxEvent(event_type=event_type, payload={}, status=status, delivered_at=delivered_at))
    db.session.commit()
    assert db.session.query(OutboxEvent).count() == len(OutboxEventType)
    for bad in (
        OutboxEvent(event_type="booking.nope", payload={}),
        OutboxEvent(event_type="signup", payload={}, status="lost"),
    ):
        db.session.add(bad)
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
    allowed = ", ".join(f"'{value}'" for value in DisputeStatus.values())
    found = {c["name"]: c["sqltext"] for c in inspect(db.engine).get_check_constraints("disputes")}
    assert all(f"'{value}'" in found["ck_disputes_status_allowed"] for value in DisputeStatus.values()), allowed


def test_the_migrated_history_accepts_every_change_kind(migrated_app):
    from tutoradmin.models import ChangeKind

    found = {c["name"]: c["sqltext"] for c in inspect(db.engine).get_check_constraints("appointment_changes")}
    assert all(f"'{kind}'" in found["ck_appointment_changes_kind_allowed"] for kind in ChangeKind.values())

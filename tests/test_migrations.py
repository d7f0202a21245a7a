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


# --- 0010: attendance marks --------------------------------------------------------------------


@pytest.fixture
def app_before_attendance(empty_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade(revision="0009")
        yield app
        db.session.remove()
        db.engine.dispose()


def _insert(conn, table, **values):
    columns = ", ".join(values)
    placeholders = ", ".join(f":{name}" for name in values)
    return conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) RETURNING id"), values).scalar()


def _sessions_before_attendance():
    """A tutor's completed session (completed at `done`), a scheduled one and a cancelled one, written at 0009."""
    start, done = datetime(2026, 3, 2, 15, tzinfo=UTC), datetime(2026, 3, 4, 12, tzinfo=UTC)
    with db.engine.begin() as conn:
        users = [
            _insert(
                conn,
                "users",
                email=f"{role}@example.com",
                password_hash="x",
                role=role,
                status="active",
                first_name="",
                last_name="",
                session_token=uuid.uuid4().hex,
                created_at=start,
            )
            for role in ("student", "tutor")
        ]
        tutor = _insert(conn, "tutors", user_id=users[1], display_name="T", bio="", hourly_rate_cents=2500,
                        priority=1, active=True, created_at=start)  # fmt: skip
        course = _insert(conn, "courses", slug="c", title="C", full_name="", description="", rate_cents=4500,
                         active=True, created_at=start)  # fmt: skip
        ids = {}
        for n, (status, extra) in enumerate(
            [("completed", {"completed_at": done}), ("scheduled", {}), ("cancelled", {"cancelled_at": done})]
        ):
            begins = start + timedelta(days=n)
            ids[status] = _insert(
                conn,
                "appointments",
                student_id=users[0],
                tutor_id=tutor,
                course_id=course,
                starts_at=begins,
                ends_at=begins + timedelta(hours=1),
                duration_minutes=60,
                status=status,
                created_at=start,
                **extra,
            )
    return ids, done


def test_0010_marks_completed_sessions_present_and_writes_the_default_policy(app_before_attendance):
    ids, done = _sessions_before_attendance()

    upgrade(revision="0010")

    with db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, attendance, attendance_marked_by_id, tutor_share_percent, student_credit_percent"
                " FROM appointments ORDER BY id"
            )
        ).all()
        marked_at = conn.execute(
            text("SELECT attendance_marked_at FROM appointments WHERE id = :id"), {"id": ids["completed"]}
        ).scalar()
        policies = conn.execute(
            text(
                "SELECT late_cancel_window_hours, late_cancel_credit_percent, no_show_credit_percent,"
                " late_cancel_tutor_percent, no_show_tutor_percent, created_by_id FROM attendance_policies"
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        (ids["completed"], "present", None, 100, 0),
        (ids["scheduled"], None, None, None, None),
        (ids["cancelled"], None, None, None, None),
    ]
    # Marked when it was completed (SQLite hands the raw text back).
    marked_on = marked_at if isinstance(marked_at, str) else marked_at.astimezone(UTC).isoformat()
    assert marked_on.startswith(done.date().isoformat())
    assert [tuple(row) for row in policies] == [(24, 50, 0, 50, 100, None)]


@pytest.mark.parametrize(
    ("target", "change"),
    [
        ("scheduled", "status = 'completed', completed_at = CURRENT_TIMESTAMP"),  # completed without a mark
        ("scheduled", "attendance = 'no_show', attendance_marked_at = CURRENT_TIMESTAMP,"
                      " tutor_share_percent = 100, student_credit_percent = 0"),  # marked yet scheduled
        ("cancelled", "attendance = 'no_show'"),  # a mark without its date and shares
        ("completed", "attendance = 'late'"),  # an unknown mark
        ("completed", "tutor_share_percent = 50"),  # « présent » not paid in full
        ("completed", "attendance = 'no_show', student_credit_percent = 101"),  # out of range
    ],
)  # fmt: skip
def test_0010_checks_refuse_inconsistent_marks(app_before_attendance, target, change):
    ids, _done = _sessions_before_attendance()
    upgrade(revision="0010")

    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(text(f"UPDATE appointments SET {change} WHERE id = :id"), {"id": ids[target]})


def test_0010_history_accepts_attendance_lines_and_keeps_the_overlap_guard(app_before_attendance):
    ids, done = _sessions_before_attendance()
    upgrade(revision="0010")

    with db.engine.begin() as conn:
        _insert(conn, "appointment_changes", appointment_id=ids["completed"], kind="attendance", reason="Absent",
                created_at=done)  # fmt: skip
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        # The completed session's time, taken again by the scheduled one: refused on both databases.
        conn.execute(
            text(
                "UPDATE appointments SET starts_at = (SELECT starts_at FROM appointments WHERE id = :other),"
                " ends_at = (SELECT ends_at FROM appointments WHERE id = :other) WHERE id = :id"
            ),
            {"id": ids["scheduled"], "other": ids["completed"]},
        )

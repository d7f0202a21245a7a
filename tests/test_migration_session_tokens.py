"""Migration 0004 gives every existing account its own session token."""

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from tutoradmin import create_app
from tutoradmin.extensions import db

from .test_migrations import empty_database_url  # noqa: F401  (fixture)

INSERT_USER = text(
    "INSERT INTO users (email, password_hash, role, status, first_name, last_name, created_at) "
    "VALUES (:email, 'x', 'student', 'active', '', '', CURRENT_TIMESTAMP)"
)


@pytest.fixture
def app_before_tokens(empty_database_url):  # noqa: F811
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade(revision="0003")
        yield app
        db.session.remove()
        db.engine.dispose()


def _tokens():
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT session_token FROM users ORDER BY id")).scalars().all()


def test_existing_accounts_get_distinct_tokens_that_the_database_then_requires(app_before_tokens):
    with db.engine.begin() as conn:
        for n in range(3):
            conn.execute(INSERT_USER, {"email": f"eleve{n}@example.com"})

    upgrade(revision="0004")

    tokens = _tokens()
    assert len(set(tokens)) == 3 and all(token and len(token) >= 40 for token in tokens)
    column = {c["name"]: c for c in inspect(db.engine).get_columns("users")}["session_token"]
    assert column["nullable"] is False
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(text("UPDATE users SET session_token = :token"), {"token": tokens[0]})

    downgrade(revision="0003")
    assert "session_token" not in {c["name"] for c in inspect(db.engine).get_columns("users")}


def test_rows_referring_to_accounts_survive_the_upgrade_and_downgrade(app_before_tokens):
    with db.engine.begin() as conn:
        conn.execute(INSERT_USER, {"email": "eleve@example.com"})
        user_id = conn.execute(text("SELECT id FROM users")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO carts (user_id, created_at, updated_at) VALUES (:id, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"id": user_id},
        )

    upgrade(revision="0004")
    downgrade(revision="0003")

    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT user_id FROM carts")).scalars().all() == [user_id]

"""Each account gets a session token that cookies carry instead of its id

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 09:00:00.000000

"""
import secrets
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


@contextmanager
def _foreign_keys_off_on_sqlite():
    """SQLite rebuilds `users` to change a column; with foreign keys on, dropping the old copy would
    run the ON DELETE actions of every table referring to accounts (carts would be emptied)."""
    if op.get_bind().dialect.name != "sqlite":
        yield
        return
    context = op.get_context()
    # The pragma is ignored inside a transaction: set it between two.
    with context.autocommit_block():
        op.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
        broken = op.get_bind().execute(sa.text("PRAGMA foreign_key_check")).all()
        if broken:
            raise RuntimeError(f"Clés étrangères rompues après la migration : {broken[:20]}")
    finally:
        with context.autocommit_block():
            op.execute("PRAGMA foreign_keys = ON")


def upgrade():
    with _foreign_keys_off_on_sqlite():
        _upgrade()


def downgrade():
    with _foreign_keys_off_on_sqlite():
        _downgrade()


def _upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))

    # One random value per existing account (a server-side default would give them all the same one).
    users = sa.table('users', sa.column('id', sa.Integer()), sa.column('session_token', sa.String()))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(
            users.update().where(users.c.id == user_id).values(session_token=secrets.token_urlsafe(32))
        )

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_users_session_token'), ['session_token'])


def _downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_session_token'), type_='unique')
        batch_op.drop_column('session_token')

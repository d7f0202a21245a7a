"""Student space: calendar feed tokens, numbered receipts, per-student coupon limits, rating edits

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 16:00:00.000000

"""
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


@contextmanager
def _foreign_keys_off_on_sqlite():
    """SQLite rebuilds `coupons` to add a CHECK constraint; with foreign keys on, dropping the old copy
    would run the ON DELETE actions of the tables referring to it."""
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
    # Nullable columns and unique indexes: SQLite adds them to `users` and `orders` without rebuilding them.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_token', sa.String(length=64), nullable=True))
    op.create_index('uq_users_calendar_token', 'users', ['calendar_token'], unique=True)

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receipt_number', sa.String(length=20), nullable=True))
    op.create_index('uq_orders_receipt_number', 'orders', ['receipt_number'], unique=True)

    op.create_table('receipt_counters',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.CheckConstraint('last_number >= 0', name=op.f('ck_receipt_counters_last_number_not_negative')),
    sa.CheckConstraint('year BETWEEN 2000 AND 2100', name=op.f('ck_receipt_counters_year_within_business_years')),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_receipt_counters'))
    )

    with _foreign_keys_off_on_sqlite(), op.batch_alter_table('coupons', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('first_order_only', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column('max_uses_per_student', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            batch_op.f('ck_coupons_max_per_student_positive'),
            'max_uses_per_student IS NULL OR max_uses_per_student > 0',
        )
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_column('updated_at')
    with _foreign_keys_off_on_sqlite(), op.batch_alter_table('coupons', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_coupons_max_per_student_positive'), type_='check')
        batch_op.drop_column('max_uses_per_student')
        batch_op.drop_column('first_order_only')
    op.drop_table('receipt_counters')
    op.drop_index('uq_orders_receipt_number', table_name='orders')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('receipt_number')
    op.drop_index('uq_users_calendar_token', table_name='users')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('calendar_token')

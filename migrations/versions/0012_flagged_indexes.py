"""Partial indexes on flagged orders and order items, read by the office's overview

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 00:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

FLAGGED = sa.text("flagged_at IS NOT NULL")


def upgrade():
    op.create_index(
        'ix_orders_flagged_at', 'orders', ['flagged_at'], sqlite_where=FLAGGED, postgresql_where=FLAGGED
    )
    op.create_index(
        'ix_order_items_flagged_at', 'order_items', ['order_id', 'flagged_at'],
        sqlite_where=FLAGGED, postgresql_where=FLAGGED,
    )


def downgrade():
    op.drop_index('ix_order_items_flagged_at', table_name='order_items')
    op.drop_index('ix_orders_flagged_at', table_name='orders')

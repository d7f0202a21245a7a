"""Indexes for the office's overview (flagged orders) and the revenue report (tutor cost, absences)

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
MISSED_SESSIONS = sa.text("status = 'completed' AND attendance IN ('no_show', 'late_cancel')")
ITEM_SESSIONS = ['order_item_id', 'status', 'starts_at', 'tutor_id', 'course_id', 'duration_minutes']


def upgrade():
    op.create_index(
        'ix_orders_flagged_at', 'orders', ['flagged_at'], sqlite_where=FLAGGED, postgresql_where=FLAGGED
    )
    op.create_index(
        'ix_order_items_flagged_at', 'order_items', ['order_id', 'flagged_at'],
        sqlite_where=FLAGGED, postgresql_where=FLAGGED,
    )
    # The tutor cost multiplies by the attendance share: the covering index carries it too.
    op.drop_index('ix_appointments_item_sessions', table_name='appointments')
    op.create_index('ix_appointments_item_sessions', 'appointments', [*ITEM_SESSIONS, 'tutor_share_percent'])
    op.create_index(
        'ix_appointments_missed_starts', 'appointments', ['starts_at'],
        sqlite_where=MISSED_SESSIONS, postgresql_where=MISSED_SESSIONS,
    )


def downgrade():
    op.drop_index('ix_appointments_missed_starts', table_name='appointments')
    op.drop_index('ix_appointments_item_sessions', table_name='appointments')
    op.create_index('ix_appointments_item_sessions', 'appointments', ITEM_SESSIONS)
    op.drop_index('ix_order_items_flagged_at', table_name='order_items')
    op.drop_index('ix_orders_flagged_at', table_name='orders')

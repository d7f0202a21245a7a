"""An index for the tutor cost of a short period (the office's overview)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 19:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

PAYABLE = sa.text("status = 'completed'")


def upgrade():
    # A month's completed sessions come from the index alone and are joined to their order item by
    # key: the overview's tutor cost no longer reads every order item ever sold.
    op.create_index(
        'ix_appointments_payable_starts', 'appointments',
        ['starts_at', 'order_item_id', 'tutor_id', 'course_id', 'duration_minutes', 'tutor_share_percent'],
        sqlite_where=PAYABLE, postgresql_where=PAYABLE,
    )


def downgrade():
    op.drop_index('ix_appointments_payable_starts', table_name='appointments')

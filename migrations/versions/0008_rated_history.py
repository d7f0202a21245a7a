"""A session's modification history also records its rating

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 18:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

OLD_KINDS = ('created', 'cancelled', 'rescheduled', 'completed', 'meeting_link', 'refunded')
NEW_KINDS = (*OLD_KINDS, 'rated')


def _within(values):
    return f"kind IN ({', '.join(repr(v) for v in values)})"


def upgrade():
    # No table refers to appointment_changes: SQLite may rebuild it with foreign keys on.
    with op.batch_alter_table('appointment_changes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_appointment_changes_kind_allowed'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_appointment_changes_kind_allowed'), _within(NEW_KINDS))


def downgrade():
    op.execute("DELETE FROM appointment_changes WHERE kind = 'rated'")
    with op.batch_alter_table('appointment_changes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_appointment_changes_kind_allowed'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_appointment_changes_kind_allowed'), _within(OLD_KINDS))

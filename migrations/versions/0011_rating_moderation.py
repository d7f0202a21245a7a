"""The office may hide a rating's comment, with a reason

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 00:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

HIDDEN_WITH_REASON = (
    "(comment_hidden_at IS NULL AND comment_hidden_reason IS NULL)"
    " OR (comment_hidden_at IS NOT NULL AND comment_hidden_reason <> '')"
)


def upgrade():
    # No table refers to ratings: SQLite may rebuild it with foreign keys on.
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('comment_hidden_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('comment_hidden_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('comment_hidden_reason', sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_ratings_comment_hidden_by_id_users'), 'users', ['comment_hidden_by_id'], ['id'],
            ondelete='SET NULL',
        )
        batch_op.create_check_constraint(batch_op.f('ck_ratings_hidden_comment_has_reason'), HIDDEN_WITH_REASON)


def downgrade():
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_ratings_hidden_comment_has_reason'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_ratings_comment_hidden_by_id_users'), type_='foreignkey')
        batch_op.drop_column('comment_hidden_reason')
        batch_op.drop_column('comment_hidden_by_id')
        batch_op.drop_column('comment_hidden_at')

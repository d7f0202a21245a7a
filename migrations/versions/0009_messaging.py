"""Session conversations, read markers, attachments and their bytes; what a student has read of a ticket

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 20:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('attachment_blobs',
    sa.Column('storage_key', sa.String(length=100), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('storage_key', name=op.f('pk_attachment_blobs'))
    )
    op.create_table('conversation_reads',
    sa.Column('appointment_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('user_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_read_message_id', sa.Integer(), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_conversation_reads_appointment_id_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_conversation_reads_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('appointment_id', 'user_id', name=op.f('pk_conversation_reads'))
    )
    with op.batch_alter_table('conversation_reads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_reads_user_id'), ['user_id'], unique=False)

    op.create_table('session_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hidden_by_id', sa.Integer(), nullable=True),
    sa.Column('hidden_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("(hidden_at IS NULL AND hidden_reason IS NULL) OR (hidden_at IS NOT NULL AND hidden_reason <> '')", name=op.f('ck_session_messages_hidden_with_reason')),
    sa.CheckConstraint('length(body) <= 5000', name=op.f('ck_session_messages_body_length')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_session_messages_appointment_id_appointments'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_session_messages_author_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['hidden_by_id'], ['users.id'], name=op.f('fk_session_messages_hidden_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_messages'))
    )
    with op.batch_alter_table('session_messages', schema=None) as batch_op:
        batch_op.create_index('ix_session_messages_appointment_id', ['appointment_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_session_messages_author_id'), ['author_id'], unique=False)

    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_message_id', sa.Integer(), nullable=True),
    sa.Column('session_message_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage', sa.String(length=20), nullable=False),
    sa.Column('storage_key', sa.String(length=100), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("content_type IN ('application/pdf', 'image/png', 'image/jpeg', 'image/heic', 'image/heif', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'text/plain')", name=op.f('ck_attachments_content_type_allowed')),
    sa.CheckConstraint("filename <> ''", name=op.f('ck_attachments_filename_required')),
    sa.CheckConstraint("storage IN ('database', 's3')", name=op.f('ck_attachments_storage_allowed')),
    sa.CheckConstraint('(ticket_message_id IS NOT NULL AND session_message_id IS NULL) OR (ticket_message_id IS NULL AND session_message_id IS NOT NULL)', name=op.f('ck_attachments_one_message')),
    sa.CheckConstraint('position BETWEEN 1 AND 5', name=op.f('ck_attachments_position_within_limit')),
    sa.CheckConstraint('size_bytes BETWEEN 1 AND 10485760', name=op.f('ck_attachments_size_within_limit')),
    sa.ForeignKeyConstraint(['session_message_id'], ['session_messages.id'], name=op.f('fk_attachments_session_message_id_session_messages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_message_id'], ['ticket_messages.id'], name=op.f('fk_attachments_ticket_message_id_ticket_messages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_attachments_uploaded_by_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_attachments_storage_key'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index('uq_attachments_session_message_position', ['session_message_id', 'position'], unique=True)
        batch_op.create_index('uq_attachments_ticket_message_position', ['ticket_message_id', 'position'], unique=True)

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('student_read_message_id', sa.Integer(), nullable=True))



def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('student_read_message_id')

    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index('uq_attachments_ticket_message_position')
        batch_op.drop_index('uq_attachments_session_message_position')

    op.drop_table('attachments')
    with op.batch_alter_table('session_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_session_messages_author_id'))
        batch_op.drop_index('ix_session_messages_appointment_id')

    op.drop_table('session_messages')
    with op.batch_alter_table('conversation_reads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_reads_user_id'))

    op.drop_table('conversation_reads')
    op.drop_table('attachment_blobs')

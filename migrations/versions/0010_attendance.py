"""Attendance marks on sessions, the attendance policy, tutors' course requests

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 22:00:00.000000

"""
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

OLD_KINDS = ('created', 'cancelled', 'rescheduled', 'completed', 'meeting_link', 'refunded', 'rated')
NEW_KINDS = (*OLD_KINDS, 'attendance')

DEFAULT_POLICY = {
    'late_cancel_window_hours': 24,
    'late_cancel_credit_percent': 50,
    'no_show_credit_percent': 0,
    'late_cancel_tutor_percent': 50,
    'no_show_tutor_percent': 100,
}

APPOINTMENT_CHECKS = {
    'attendance_allowed': "attendance IN ('present', 'no_show', 'late_cancel')",
    'completed_is_marked': "status <> 'completed' OR attendance IS NOT NULL",
    'marked_is_not_scheduled': "attendance IS NULL OR status <> 'scheduled'",
    'mark_has_its_shares': (
        "(attendance IS NULL AND attendance_marked_at IS NULL AND tutor_share_percent IS NULL"
        " AND student_credit_percent IS NULL)"
        " OR (attendance IS NOT NULL AND attendance_marked_at IS NOT NULL"
        " AND tutor_share_percent BETWEEN 0 AND 100 AND student_credit_percent BETWEEN 0 AND 100)"
    ),
    'present_is_paid_in_full': (
        "attendance IS NULL OR attendance <> 'present' OR (tutor_share_percent = 100 AND student_credit_percent = 0)"
    ),
}

# SQLite cannot add constraints to a table: it is rebuilt, and the overlap guard's triggers (0003) go with
# the old copy, so they are written again afterwards.
_OCCUPYING = "status IN ('scheduled', 'completed')"
_OVERLAPPING = f"""
    SELECT RAISE(ABORT, 'no_overlapping_sessions') WHERE EXISTS (
        SELECT 1 FROM appointments AS other
        WHERE other.tutor_id = NEW.tutor_id AND other.id IS NOT NEW.id
          AND other.{_OCCUPYING}
          AND other.starts_at < NEW.ends_at AND NEW.starts_at < other.ends_at
    );"""
SQLITE_TRIGGERS = {
    "appointments_no_overlap_insert": f"""
        CREATE TRIGGER appointments_no_overlap_insert BEFORE INSERT ON appointments
        WHEN NEW.{_OCCUPYING}
        BEGIN {_OVERLAPPING}
        END""",
    "appointments_no_overlap_update": f"""
        CREATE TRIGGER appointments_no_overlap_update
        BEFORE UPDATE OF tutor_id, starts_at, ends_at, status ON appointments
        WHEN NEW.{_OCCUPYING}
        BEGIN {_OVERLAPPING}
        END""",
}


def _within(values):
    return f"kind IN ({', '.join(repr(v) for v in values)})"


@contextmanager
def _appointments_rebuilt_on_sqlite():
    """On SQLite: foreign keys off while `appointments` is copied (dropping the old copy would run the ON DELETE
    actions of every table referring to it), then the overlap triggers written again."""
    if op.get_bind().dialect.name != "sqlite":
        yield
        return
    context = op.get_context()
    with context.autocommit_block():
        op.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
        for name, trigger in SQLITE_TRIGGERS.items():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
            op.execute(trigger)
        broken = op.get_bind().execute(sa.text("PRAGMA foreign_key_check")).all()
        if broken:
            raise RuntimeError(f"Clés étrangères rompues après la migration : {broken[:20]}")
    finally:
        with context.autocommit_block():
            op.execute("PRAGMA foreign_keys = ON")


def _fill_marks():
    """Sessions completed before marks existed were counted as attended: they become « présent », marked by
    no one (the default mark) when they were completed."""
    op.execute(
        "UPDATE appointments SET attendance = 'present', attendance_marked_at = COALESCE(completed_at, ends_at),"
        " tutor_share_percent = 100, student_credit_percent = 0 WHERE status = 'completed'"
    )


def upgrade():
    op.create_table('attendance_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('late_cancel_window_hours', sa.SmallInteger(), nullable=False),
    sa.Column('late_cancel_credit_percent', sa.SmallInteger(), nullable=False),
    sa.Column('no_show_credit_percent', sa.SmallInteger(), nullable=False),
    sa.Column('late_cancel_tutor_percent', sa.SmallInteger(), nullable=False),
    sa.Column('no_show_tutor_percent', sa.SmallInteger(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('late_cancel_credit_percent BETWEEN 0 AND 100', name=op.f('ck_attendance_policies_late_cancel_credit_percent_range')),
    sa.CheckConstraint('late_cancel_tutor_percent BETWEEN 0 AND 100', name=op.f('ck_attendance_policies_late_cancel_tutor_percent_range')),
    sa.CheckConstraint('late_cancel_window_hours BETWEEN 0 AND 168', name=op.f('ck_attendance_policies_window_range')),
    sa.CheckConstraint('no_show_credit_percent BETWEEN 0 AND 100', name=op.f('ck_attendance_policies_no_show_credit_percent_range')),
    sa.CheckConstraint('no_show_tutor_percent BETWEEN 0 AND 100', name=op.f('ck_attendance_policies_no_show_tutor_percent_range')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_attendance_policies_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_policies'))
    )
    op.create_table('course_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tutor_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(status = 'pending' AND decided_at IS NULL) OR (status <> 'pending' AND decided_at IS NOT NULL)", name=op.f('ck_course_requests_decided_when_not_pending')),
    sa.CheckConstraint("status IN ('pending', 'approved', 'refused')", name=op.f('ck_course_requests_status_allowed')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_requests_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_course_requests_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tutor_id'], ['tutors.id'], name=op.f('fk_course_requests_tutor_id_tutors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_requests'))
    )
    with op.batch_alter_table('course_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_requests_tutor_id'), ['tutor_id'], unique=False)
        batch_op.create_index('uq_course_requests_pending', ['tutor_id', 'course_id'], unique=True, sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))

    # Columns first (added in place on both databases), filled, then the constraints that rely on them.
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attendance', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('attendance_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('attendance_marked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('attendance_marked_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('tutor_share_percent', sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column('student_credit_percent', sa.SmallInteger(), nullable=True))
    _fill_marks()
    with _appointments_rebuilt_on_sqlite(), op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_appointments_attendance_marked_by_id_users'), 'users', ['attendance_marked_by_id'], ['id'], ondelete='SET NULL')
        for name, condition in APPOINTMENT_CHECKS.items():
            batch_op.create_check_constraint(batch_op.f(f'ck_appointments_{name}'), condition)

    with op.batch_alter_table('payout_adjustments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('appointment_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_payout_adjustments_appointment_id'), ['appointment_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_payout_adjustments_appointment_id_appointments'), 'appointments', ['appointment_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('appointment_changes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_appointment_changes_kind_allowed'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_appointment_changes_kind_allowed'), _within(NEW_KINDS))

    op.bulk_insert(
        sa.table(
            'attendance_policies',
            *(sa.column(name) for name in DEFAULT_POLICY),
            sa.column('created_at', sa.DateTime(timezone=True)),
        ),
        [{**DEFAULT_POLICY, 'created_at': datetime.now(UTC)}],
    )


def downgrade():
    op.execute("DELETE FROM appointment_changes WHERE kind = 'attendance'")
    with op.batch_alter_table('appointment_changes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_appointment_changes_kind_allowed'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_appointment_changes_kind_allowed'), _within(OLD_KINDS))

    with op.batch_alter_table('payout_adjustments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_payout_adjustments_appointment_id_appointments'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_payout_adjustments_appointment_id'))
        batch_op.drop_column('appointment_id')

    with _appointments_rebuilt_on_sqlite(), op.batch_alter_table('appointments', schema=None) as batch_op:
        for name in APPOINTMENT_CHECKS:
            batch_op.drop_constraint(batch_op.f(f'ck_appointments_{name}'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_appointments_attendance_marked_by_id_users'), type_='foreignkey')
        batch_op.drop_column('student_credit_percent')
        batch_op.drop_column('tutor_share_percent')
        batch_op.drop_column('attendance_marked_by_id')
        batch_op.drop_column('attendance_marked_at')
        batch_op.drop_column('attendance_note')
        batch_op.drop_column('attendance')

    with op.batch_alter_table('course_requests', schema=None) as batch_op:
        batch_op.drop_index('uq_course_requests_pending', sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
        batch_op.drop_index(batch_op.f('ix_course_requests_tutor_id'))

    op.drop_table('course_requests')
    op.drop_table('attendance_policies')

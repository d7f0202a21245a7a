"""The database refuses two overlapping occupying sessions of one tutor

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 06:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

OCCUPYING = "status IN ('scheduled', 'completed')"
CONSTRAINT = "ex_appointments_no_overlapping_sessions"
_OVERLAPPING = f"""
    SELECT RAISE(ABORT, 'no_overlapping_sessions') WHERE EXISTS (
        SELECT 1 FROM appointments AS other
        WHERE other.tutor_id = NEW.tutor_id AND other.id IS NOT NEW.id
          AND other.{OCCUPYING}
          AND other.starts_at < NEW.ends_at AND NEW.starts_at < other.ends_at
    );"""
SQLITE_TRIGGERS = {
    "appointments_no_overlap_insert": f"""
        CREATE TRIGGER appointments_no_overlap_insert BEFORE INSERT ON appointments
        WHEN NEW.{OCCUPYING}
        BEGIN {_OVERLAPPING}
        END""",
    "appointments_no_overlap_update": f"""
        CREATE TRIGGER appointments_no_overlap_update
        BEFORE UPDATE OF tutor_id, starts_at, ends_at, status ON appointments
        WHEN NEW.{OCCUPYING}
        BEGIN {_OVERLAPPING}
        END""",
}


def _refuse_existing_overlaps():
    """Stop with the sessions to fix rather than a bare constraint error (`flask check-integrity` lists them too)."""
    overlaps = op.get_bind().execute(sa.text(f"""
        SELECT a.id, b.id FROM appointments a JOIN appointments b
          ON a.tutor_id = b.tutor_id AND a.id < b.id
         AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
        WHERE a.{OCCUPYING} AND b.{OCCUPYING}
    """)).all()
    if overlaps:
        pairs = ", ".join(f"#{a} et #{b}" for a, b in overlaps[:20])
        raise RuntimeError(f"Séances qui se chevauchent pour un même tuteur : {pairs}. Annulez-en une de chaque paire.")


def upgrade():
    _refuse_existing_overlaps()
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            f"ALTER TABLE appointments ADD CONSTRAINT {CONSTRAINT} EXCLUDE USING gist "
            f"(tutor_id WITH =, tstzrange(starts_at, ends_at) WITH &&) WHERE ({OCCUPYING})"
        )
    else:
        for trigger in SQLITE_TRIGGERS.values():
            op.execute(trigger)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        # btree_gist stays: other objects of the database may use it.
        op.drop_constraint(CONSTRAINT, "appointments")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")

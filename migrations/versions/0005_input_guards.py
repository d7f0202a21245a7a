"""The database refuses overlapping weekly rules, dates outside 2000–2100, malformed course slugs
and credit debits beyond a student's balance

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 12:00:00.000000

"""
import re
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

FIRST_DAY, LAST_DAY = "2000-01-01", "2100-12-31"
FIRST_INSTANT, END_INSTANT = "2000-01-01 00:00:00+00:00", "2101-01-01 00:00:00+00:00"
DATE_CHECKS = {("availability_exceptions", "date"): "date_within_business_years"}
INSTANT_CHECKS = {
    ("time_off", "starts_at"): "starts_within_business_years",
    ("time_off", "ends_at"): "ends_within_business_years",
    ("coupons", "starts_at"): "starts_within_business_years",
    ("coupons", "ends_at"): "ends_within_business_years",
}
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_FORMAT = (
    "slug <> '' AND ltrim(slug, 'abcdefghijklmnopqrstuvwxyz0123456789-') = '' "
    "AND slug NOT LIKE '-%' AND slug NOT LIKE '%-' AND slug NOT LIKE '%--%'"
)
SLUG_LOWERCASE = "slug = lower(slug) AND slug <> ''"
RULES_UNIQUE = "uq_weekly_rules_tutor_id_weekday_start_time"
RULES_EXCLUSION = "ex_weekly_rules_overlap"
_SECONDS = "CAST(EXTRACT(epoch FROM {}) AS INTEGER)"
_OVERLAPPING_RULE = """
    SELECT RAISE(ABORT, 'weekly_rules_overlap') WHERE EXISTS (
        SELECT 1 FROM weekly_rules AS other
        WHERE other.tutor_id = NEW.tutor_id AND other.weekday = NEW.weekday AND other.id IS NOT NEW.id
          AND other.start_time < NEW.end_time AND NEW.start_time < other.end_time
    );"""
SQLITE_RULES_TRIGGERS = {
    "weekly_rules_no_overlap_insert": f"""
        CREATE TRIGGER weekly_rules_no_overlap_insert BEFORE INSERT ON weekly_rules
        BEGIN {_OVERLAPPING_RULE}
        END""",
    "weekly_rules_no_overlap_update": f"""
        CREATE TRIGGER weekly_rules_no_overlap_update
        BEFORE UPDATE OF tutor_id, weekday, start_time, end_time ON weekly_rules
        BEGIN {_OVERLAPPING_RULE}
        END""",
}

BALANCE = "SELECT COALESCE(SUM(CASE WHEN kind = 'credit' THEN amount_cents ELSE -amount_cents END), 0) " \
          "FROM credit_entries WHERE user_id = {}"
SQLITE_BALANCE_TRIGGERS = {
    "credit_entries_balance_not_negative_insert": f"""
        CREATE TRIGGER credit_entries_balance_not_negative_insert AFTER INSERT ON credit_entries
        WHEN NEW.kind = 'debit' AND ({BALANCE.format('NEW.user_id')}) < 0
        BEGIN SELECT RAISE(ABORT, 'credit_balance_negative'); END""",
    "credit_entries_balance_not_negative_update": f"""
        CREATE TRIGGER credit_entries_balance_not_negative_update
        AFTER UPDATE OF user_id, kind, amount_cents ON credit_entries
        WHEN ({BALANCE.format('NEW.user_id')}) < 0 OR ({BALANCE.format('OLD.user_id')}) < 0
        BEGIN SELECT RAISE(ABORT, 'credit_balance_negative'); END""",
}
POSTGRESQL_BALANCE_FUNCTION = """
    CREATE OR REPLACE FUNCTION credit_balance_not_negative() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        previous integer;
        account integer;
        balance bigint;
    BEGIN
        IF TG_OP = 'INSERT' AND NEW.kind = 'credit' THEN
            RETURN NULL;
        END IF;
        IF TG_OP = 'UPDATE' THEN
            previous := OLD.user_id;
        END IF;
        FOR account IN
            SELECT id FROM users WHERE id IN (NEW.user_id, previous) ORDER BY id FOR NO KEY UPDATE
        LOOP
            -- Read after the lock: a concurrent debit of this account has committed by now.
            SELECT COALESCE(SUM(CASE WHEN kind = 'credit' THEN amount_cents ELSE -amount_cents END), 0)
              INTO balance FROM credit_entries WHERE user_id = account;
            IF balance < 0 THEN
                RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = 'credit_balance_negative',
                    MESSAGE = 'credit_balance_negative: account ' || account || ', balance ' || balance || ' cents';
            END IF;
        END LOOP;
        RETURN NULL;
    END $$"""
POSTGRESQL_BALANCE_TRIGGER = """
    CREATE TRIGGER credit_entries_balance_not_negative
    AFTER INSERT OR UPDATE OF user_id, kind, amount_cents ON credit_entries
    FOR EACH ROW EXECUTE FUNCTION credit_balance_not_negative()"""


def _sqlite():
    return op.get_bind().dialect.name == "sqlite"


def _rows(sql):
    return op.get_bind().execute(sa.text(sql)).all()


def _refuse_existing_bad_rows():
    """Stop with the rows to fix in the back office rather than a bare constraint error."""
    problems = []
    overlaps = _rows("""
        SELECT a.id, b.id FROM weekly_rules a JOIN weekly_rules b
          ON a.tutor_id = b.tutor_id AND a.weekday = b.weekday AND a.id < b.id
         AND a.start_time < b.end_time AND b.start_time < a.end_time
    """)
    if overlaps:
        pairs = ", ".join(f"#{a} et #{b}" for a, b in overlaps[:20])
        problems.append(f"plages hebdomadaires d'un même tuteur qui se chevauchent : {pairs}")
    for (table, column) in DATE_CHECKS:
        ids = _rows(f"SELECT id FROM {table} WHERE {column} < '{FIRST_DAY}' OR {column} > '{LAST_DAY}'")
        if ids:
            problems.append(f"{table}.{column} hors de 2000–2100 : " + ", ".join(f"#{i}" for i, in ids[:20]))
    for (table, column) in INSTANT_CHECKS:
        ids = _rows(f"SELECT id FROM {table} WHERE {column} < '{FIRST_INSTANT}' OR {column} >= '{END_INSTANT}'")
        if ids:
            problems.append(f"{table}.{column} hors de 2000–2100 : " + ", ".join(f"#{i}" for i, in ids[:20]))
    slugs = [slug for _id, slug in _rows("SELECT id, slug FROM courses") if not SLUG.match(slug)]
    if slugs:
        problems.append("identifiants d'URL de cours invalides : " + ", ".join(slugs[:20]))
    if problems:
        raise RuntimeError("Corrigez d'abord ces données : " + " ; ".join(problems) + ".")


@contextmanager
def _foreign_keys_off_on_sqlite():
    """SQLite rebuilds a table to add a constraint; with foreign keys on, dropping the old copy of a
    referenced table (courses, coupons) would run its ON DELETE actions and empty other tables."""
    if not _sqlite():
        yield
        return
    context = op.get_context()
    # The pragma is ignored inside a transaction: set it between two.
    with context.autocommit_block():
        op.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
        broken = _rows("PRAGMA foreign_key_check")
        if broken:
            raise RuntimeError(f"Clés étrangères rompues après la migration : {broken[:20]}")
    finally:
        with context.autocommit_block():
            op.execute("PRAGMA foreign_keys = ON")


def upgrade():
    _refuse_existing_bad_rows()
    with _foreign_keys_off_on_sqlite():
        with op.batch_alter_table('weekly_rules', schema=None) as batch_op:
            batch_op.create_unique_constraint(op.f(RULES_UNIQUE), ['tutor_id', 'weekday', 'start_time'])
        for (table, column), name in DATE_CHECKS.items():
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.create_check_constraint(
                    op.f(f'ck_{table}_{name}'), f"{column} BETWEEN '{FIRST_DAY}' AND '{LAST_DAY}'"
                )
        for (table, column), name in INSTANT_CHECKS.items():
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.create_check_constraint(
                    op.f(f'ck_{table}_{name}'), f"{column} >= '{FIRST_INSTANT}' AND {column} < '{END_INSTANT}'"
                )
        with op.batch_alter_table('courses', schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f('ck_courses_slug_lowercase'), type_='check')
            batch_op.create_check_constraint(op.f('ck_courses_slug_format'), SLUG_FORMAT)
    # Balances already below zero stay as they are (`flask check-integrity` lists them): the guard
    # refuses new debits there, and any credit brings them back up.
    if _sqlite():
        for trigger in [*SQLITE_RULES_TRIGGERS.values(), *SQLITE_BALANCE_TRIGGERS.values()]:
            op.execute(trigger)
    else:
        op.execute(POSTGRESQL_BALANCE_FUNCTION)
        op.execute(POSTGRESQL_BALANCE_TRIGGER)
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            f"ALTER TABLE weekly_rules ADD CONSTRAINT {RULES_EXCLUSION} EXCLUDE USING gist "
            f"(tutor_id WITH =, weekday WITH =, "
            f"int4range({_SECONDS.format('start_time')}, {_SECONDS.format('end_time')}) WITH &&)"
        )


def downgrade():
    if _sqlite():
        for name in [*SQLITE_RULES_TRIGGERS, *SQLITE_BALANCE_TRIGGERS]:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS credit_entries_balance_not_negative ON credit_entries")
        op.execute("DROP FUNCTION IF EXISTS credit_balance_not_negative()")
        op.drop_constraint(RULES_EXCLUSION, 'weekly_rules')
    with _foreign_keys_off_on_sqlite():
        with op.batch_alter_table('courses', schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f('ck_courses_slug_format'), type_='check')
            batch_op.create_check_constraint(op.f('ck_courses_slug_lowercase'), SLUG_LOWERCASE)
        for (table, _column), name in reversed(list({**DATE_CHECKS, **INSTANT_CHECKS}.items())):
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.drop_constraint(batch_op.f(f'ck_{table}_{name}'), type_='check')
        with op.batch_alter_table('weekly_rules', schema=None) as batch_op:
            batch_op.drop_constraint(op.f(RULES_UNIQUE), type_='unique')

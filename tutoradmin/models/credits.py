"""The student credit ledger: balance = credits − debits."""

from datetime import datetime

from sqlalchemy import DDL, CheckConstraint, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import Choices, UTCDateTime, utcnow


class CreditKind(Choices):
    CREDIT = "credit"
    DEBIT = "debit"


class CreditEntry(db.Model):
    """One line of a student's credit ledger; amounts are positive, the kind gives the sign."""

    __tablename__ = "credit_entries"
    __table_args__ = (
        CreditKind.check("kind", "kind_allowed"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("reason <> ''", name="reason_required"),
        Index("ix_credit_entries_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(10))
    amount_cents: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped["User"] = relationship(foreign_keys=[user_id])  # noqa: F821

    @property
    def signed_cents(self):
        return self.amount_cents if self.kind == CreditKind.CREDIT else -self.amount_cents


# No student's balance goes below zero: the database refuses the ledger line that would take it there
# (a debit, or a line rewritten), whatever wrote it. On PostgreSQL the check first locks the account
# row, as `credits.lock_ledger` does, so that two debits written at once wait for each other and the
# second one sees the first; SQLite runs one writer at a time. `sqlalchemy.exc.IntegrityError` either
# way. Deleting lines is not checked: the application never deletes them.
NEGATIVE_BALANCE = "credit_balance_negative"
_BALANCE_SQL = (
    "SELECT COALESCE(SUM(CASE WHEN kind = 'credit' THEN amount_cents ELSE -amount_cents END), 0) "
    "FROM credit_entries WHERE user_id = {}"
)
SQLITE_BALANCE_TRIGGERS = {
    "credit_entries_balance_not_negative_insert": f"""
        CREATE TRIGGER credit_entries_balance_not_negative_insert AFTER INSERT ON credit_entries
        WHEN NEW.kind = 'debit' AND ({_BALANCE_SQL.format("NEW.user_id")}) < 0
        BEGIN SELECT RAISE(ABORT, '{NEGATIVE_BALANCE}'); END""",
    "credit_entries_balance_not_negative_update": f"""
        CREATE TRIGGER credit_entries_balance_not_negative_update
        AFTER UPDATE OF user_id, kind, amount_cents ON credit_entries
        WHEN ({_BALANCE_SQL.format("NEW.user_id")}) < 0 OR ({_BALANCE_SQL.format("OLD.user_id")}) < 0
        BEGIN SELECT RAISE(ABORT, '{NEGATIVE_BALANCE}'); END""",
}
POSTGRESQL_BALANCE_FUNCTION = f"""
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
                RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = '{NEGATIVE_BALANCE}',
                    MESSAGE = '{NEGATIVE_BALANCE}: account ' || account || ', balance ' || balance || ' cents';
            END IF;
        END LOOP;
        RETURN NULL;
    END $$"""
POSTGRESQL_BALANCE_TRIGGER = """
    CREATE TRIGGER credit_entries_balance_not_negative
    AFTER INSERT OR UPDATE OF user_id, kind, amount_cents ON credit_entries
    FOR EACH ROW EXECUTE FUNCTION credit_balance_not_negative()"""

_ledger = CreditEntry.__table__
for _trigger in SQLITE_BALANCE_TRIGGERS.values():
    event.listen(_ledger, "after_create", DDL(_trigger).execute_if(dialect="sqlite"))
for _statement in (POSTGRESQL_BALANCE_FUNCTION, POSTGRESQL_BALANCE_TRIGGER):
    event.listen(_ledger, "after_create", DDL(_statement).execute_if(dialect="postgresql"))

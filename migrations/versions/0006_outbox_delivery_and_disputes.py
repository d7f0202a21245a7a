"""Outbox delivery (claims with a lease, ordering, a stopped status, every business event type),
order flags for staff and card disputes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 14:00:00.000000

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OLD_TYPES = (
    "signup",
    "booking.created",
    "booking.cancelled",
    "booking.rescheduled",
    "ticket.created",
    "ticket.replied",
    "refund.processed",
)
NEW_TYPES = (
    "signup",
    "password.reset_requested",
    "booking.created",
    "booking.cancelled",
    "booking.rescheduled",
    "booking.reminder",
    "booking.attendance",
    "ticket.created",
    "ticket.replied",
    "message.sent",
    "refund.processed",
    "payout.paid",
    "tutor.availability.updated",
    "tutor.rate.updated",
    "course.created",
)
OLD_STATUSES = ("pending", "delivered", "failed")
NEW_STATUSES = ("pending", "delivered", "failed", "stopped")
DISPUTE_STATUSES = (
    "warning_needs_response",
    "warning_under_review",
    "warning_closed",
    "needs_response",
    "under_review",
    "won",
    "lost",
)


def _within(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade():
    # Delivered rows written before delivery dates were required get their creation date.
    op.execute("UPDATE outbox_events SET delivered_at = created_at WHERE status = 'delivered' AND delivered_at IS NULL")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ordering_key", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(batch_op.f("ck_outbox_events_type_allowed"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_outbox_events_status_allowed"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_outbox_events_type_allowed"), _within("event_type", NEW_TYPES))
        batch_op.create_check_constraint(batch_op.f("ck_outbox_events_status_allowed"), _within("status", NEW_STATUSES))
        batch_op.create_check_constraint(
            batch_op.f("ck_outbox_events_delivered_has_date"), "status <> 'delivered' OR delivered_at IS NOT NULL"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_outbox_events_claim_complete"), "(claim_token IS NULL) = (claimed_until IS NULL)"
        )
        batch_op.create_index("ix_outbox_events_ordering", ["ordering_key", "status", "id"], unique=False)

    # Adding nullable columns does not rebuild `orders` on SQLite (so its foreign keys stay untouched).
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("flag_reason", sa.Text(), nullable=True))

    op.create_table(
        "disputes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("gateway_dispute_id", sa.String(length=255), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(_within("status", DISPUTE_STATUSES), name=op.f("ck_disputes_status_allowed")),
        sa.CheckConstraint("amount_cents >= 0", name=op.f("ck_disputes_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_disputes_order_id_orders"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_disputes_payment_id_payments"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
        sa.UniqueConstraint("gateway_dispute_id", name=op.f("uq_disputes_gateway_dispute_id")),
    )
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disputes_order_id"), ["order_id"], unique=False)


def downgrade():
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disputes_order_id"))
    op.drop_table("disputes")

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("flag_reason")
        batch_op.drop_column("flagged_at")

    # Events of the new types cannot be kept under the old constraint; stopped ones count as failed.
    op.execute(f"DELETE FROM outbox_events WHERE NOT ({_within('event_type', OLD_TYPES)})")
    op.execute("UPDATE outbox_events SET status = 'failed' WHERE status = 'stopped'")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_events_ordering")
        batch_op.drop_constraint(batch_op.f("ck_outbox_events_claim_complete"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_outbox_events_delivered_has_date"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_outbox_events_status_allowed"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_outbox_events_type_allowed"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_outbox_events_type_allowed"), _within("event_type", OLD_TYPES))
        batch_op.create_check_constraint(batch_op.f("ck_outbox_events_status_allowed"), _within("status", OLD_STATUSES))
        batch_op.drop_column("last_attempt_at")
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claim_token")
        batch_op.drop_column("ordering_key")

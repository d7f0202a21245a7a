"""Indexes for the revenue report and the order lists

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 21:05:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    # The covering indexes start with order_id: they replace the single-column ones.
    op.drop_index('ix_order_items_order_id', table_name='order_items')
    op.drop_index('ix_payments_order_id', table_name='payments')
    op.drop_index('ix_payments_status_succeeded_at', table_name='payments')
    op.create_index('ix_order_items_order_shares', 'order_items',
                    ['order_id', 'course_id', 'tutor_id', 'price_cents', 'discount_cents', 'credit_cents'])
    op.create_index('ix_order_items_earnings', 'order_items',
                    ['id', 'course_id', 'tutor_id', 'tutor_earnings_cents'])
    op.create_index('ix_payments_status_succeeded_at', 'payments',
                    ['status', 'succeeded_at', 'amount_cents'])
    op.create_index('ix_payments_order_succeeded', 'payments',
                    ['order_id', 'status', 'succeeded_at', 'amount_cents'])
    op.create_index('ix_appointments_item_sessions', 'appointments',
                    ['order_item_id', 'status', 'starts_at', 'tutor_id', 'course_id', 'duration_minutes'])
    op.create_index('ix_orders_created_at', 'orders', ['created_at'])


def downgrade():
    op.drop_index('ix_orders_created_at', table_name='orders')
    op.drop_index('ix_appointments_item_sessions', table_name='appointments')
    op.drop_index('ix_payments_order_succeeded', table_name='payments')
    op.drop_index('ix_payments_status_succeeded_at', table_name='payments')
    op.drop_index('ix_order_items_earnings', table_name='order_items')
    op.drop_index('ix_order_items_order_shares', table_name='order_items')
    op.create_index('ix_payments_status_succeeded_at', 'payments', ['status', 'succeeded_at'])
    op.create_index('ix_payments_order_id', 'payments', ['order_id'])
    op.create_index('ix_order_items_order_id', 'order_items', ['order_id'])

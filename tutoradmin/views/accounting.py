"""The accountant's views: orders, refunds, tutor payouts and coupon usage, read-only with CSV."""

from flask_admin.contrib.sqla.filters import FilterEqual, FilterLike, IntEqualFilter

from ..models import PAYOUT_STATUS_LABELS, TutorPayout
from .base import ACCOUNTING, ReadOnlyModelView
from .catalog import CouponColumns
from .columns import (
    choices,
    datetime_column,
    hours_column,
    label_column,
    money_column,
    money_export,
)
from .orders import MONEY_COLUMNS, OrderColumns


def _exports(formatters, money_columns):
    """Export formatters: as listed, but amounts as plain dollars a spreadsheet can add up."""
    return {**formatters, **dict.fromkeys(money_columns, money_export)}


class AccountingOrderView(OrderColumns, ReadOnlyModelView):
    allowed_roles = ACCOUNTING
    column_formatters_export = _exports(OrderColumns.column_formatters, MONEY_COLUMNS)


PAYOUT_MONEY_COLUMNS = ("earnings_cents", "adjustments_cents", "amount_cents")


class PayoutColumns:
    """A tutor's monthly statement, for the accountant and for the tutor."""

    column_list = [
        "year",
        "month",
        "minutes",
        *PAYOUT_MONEY_COLUMNS,
        "status",
        "paid_at",
        "confirmation_number",
    ]
    column_sortable_list = ["year", "month", "amount_cents", "status", "paid_at"]
    column_default_sort = [("year", True), ("month", True)]
    column_labels = {
        "tutor": "Tuteur",
        "year": "Année",
        "month": "Mois",
        "minutes": "Heures",
        "earnings_cents": "Gains",
        "adjustments_cents": "Ajustements",
        "amount_cents": "À payer",
        "status": "Statut",
        "paid_at": "Payé le",
        "confirmation_number": "Confirmation",
    }
    column_formatters = {
        "minutes": hours_column,
        **dict.fromkeys(PAYOUT_MONEY_COLUMNS, money_column),
        "status": label_column(PAYOUT_STATUS_LABELS),
        "paid_at": datetime_column,
    }


class AccountingPayoutView(PayoutColumns, ReadOnlyModelView):
    allowed_roles = ACCOUNTING
    column_list = ["tutor", *PayoutColumns.column_list]
    column_filters = [
        FilterLike("tutor.display_name", "Tuteur"),
        IntEqualFilter(TutorPayout.year, "Année"),
        IntEqualFilter(TutorPayout.month, "Mois"),
        FilterEqual(TutorPayout.status, "Statut", options=choices(PAYOUT_STATUS_LABELS)),
    ]
    column_formatters_export = _exports(PayoutColumns.column_formatters, PAYOUT_MONEY_COLUMNS)


class AccountingCouponView(CouponColumns, ReadOnlyModelView):
    """Coupon usage: how often each code was redeemed and the discount it gave, against its limit."""

    allowed_roles = ACCOUNTING
    column_default_sort = ("discount_given_cents", True)
    column_formatters_export = _exports(CouponColumns.column_formatters, ["discount_given_cents"])

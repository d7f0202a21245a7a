"""The accountant's views: orders, refunds, tutor payouts and coupon usage, read-only with CSV."""

from datetime import date

from babel.dates import get_month_names
from flask_admin.contrib.sqla.filters import FilterEqual, FilterLike, IntEqualFilter

from ..formatting import LOCALE, month_label
from ..models import PAYOUT_STATUS_LABELS, TutorPayout
from .base import ACCOUNTING, ReadOnlyModelView
from .catalog import CouponColumns
from .columns import (
    choices,
    hours_column,
    label_column,
    money_column,
    money_export,
    paid_day_column,
)
from .keyset import KeysetPagerMixin
from .orders import MONEY_COLUMNS, OrderColumns


def _exports(formatters, money_columns):
    """Export formatters: as listed, but amounts as plain dollars a spreadsheet can add up."""
    return {**formatters, **dict.fromkeys(money_columns, money_export)}


class AccountingOrderView(KeysetPagerMixin, OrderColumns, ReadOnlyModelView):
    allowed_roles = ACCOUNTING
    # The office's order list template: its keyset pager (the office's row actions are not offered here).
    list_template = "admin/order_list.html"
    column_formatters_export = _exports(OrderColumns.column_formatters, MONEY_COLUMNS)


PAYOUT_MONEY_COLUMNS = ("earnings_cents", "adjustments_cents", "amount_cents")
#: The month filter's choices: 1 → janvier.
MONTH_CHOICES = list(get_month_names("wide", locale=LOCALE).items())


def _payout_month(_view, _context, payout, _name):
    """octobre 2026."""
    return month_label(date(payout.year, payout.month, 1))


def _payout_month_export(_view, _context, payout, _name):
    """2026-10: the ISO month a spreadsheet sorts."""
    return f"{payout.year}-{payout.month:02d}"


class PayoutColumns:
    """A tutor's monthly statement, for the accountant and for the tutor."""

    column_list = [
        "month",
        "minutes",
        *PAYOUT_MONEY_COLUMNS,
        "status",
        "paid_at",
        "confirmation_number",
    ]
    column_details_list = [*column_list, "created_at"]
    # The month column shows « octobre 2026 »: it sorts by year, then month.
    column_sortable_list = [("month", ("year", "month")), "amount_cents", "status", "paid_at"]
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
        # The day the payment was made, not the moment it was recorded.
        "paid_at": paid_day_column,
        "month": _payout_month,
    }


class AccountingPayoutView(PayoutColumns, ReadOnlyModelView):
    allowed_roles = ACCOUNTING
    column_list = ["tutor", *PayoutColumns.column_list]
    column_details_list = ["tutor", *PayoutColumns.column_details_list]
    column_filters = [
        FilterLike("tutor.display_name", "Tuteur"),
        IntEqualFilter(TutorPayout.year, "Année"),
        IntEqualFilter(TutorPayout.month, "Mois", options=MONTH_CHOICES),
        FilterEqual(TutorPayout.status, "Statut", options=choices(PAYOUT_STATUS_LABELS)),
    ]
    column_formatters_export = {
        **_exports(PayoutColumns.column_formatters, PAYOUT_MONEY_COLUMNS),
        "month": _payout_month_export,
    }


class AccountingCouponView(CouponColumns, ReadOnlyModelView):
    """Coupon usage: how often each code was redeemed and the discount it gave, against its limit."""

    allowed_roles = ACCOUNTING
    column_default_sort = ("discount_given_cents", True)
    column_formatters_export = _exports(CouponColumns.column_formatters, ["discount_given_cents"])

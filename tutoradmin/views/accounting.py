"""The accountant's views: orders, refunds, tutor payouts and coupon usage, read-only with CSV."""

from flask_admin.contrib.sqla.filters import FilterEqual, FilterLike, IntEqualFilter

from ..models import TutorPayout
from .base import ACCOUNTING, ReadOnlyModelView
from .columns import (
    COUPON_KIND_LABELS,
    PAYOUT_STATUS_LABELS,
    choices,
    coupon_value_column,
    datetime_column,
    hours_column,
    label_column,
    money_column,
    money_export,
)
from .filters import local_day_filters
from .sales import MONEY_COLUMNS, OrderColumns



def _exports(formatters, money_columns):
    """Export formatters: as listed, but amounts as plain dollars a spreadsheet can add up."""
    return {**formatters, **{name: money_export for name in money_columns}}


class AccountingOrderView(OrderColumns, ReadOnlyModelView):
    allowed_roles = ACCOUNTING
    column_formatters_export = _exports(OrderColumns.column_formatters, MONEY_COLUMNS)


PAYOUT_MONEY_COLUMNS = ("earnings_cents", "adjustments_cents", "amount_cents")


class PayoutColumns:
    """A tutor's monthly statement, for the accountant and for the tutor."""

    column_list = [
        "year", "month", "minutes", *PAYOUT_MONEY_COLUMNS,
        "status", "paid_at", "confirmation_number",
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
        **{name: money_column for name in PAYOUT_MONEY_COLUMNS},
        "status": label_column(PAYOUT_STATUS_LABELS),
        "paid_at": datetime_column,
    }


class AccountingPayoutView(PayoutColumns, ReadOnlyModelView):
    allowed_roles = ACCOUNTING
    column_list = ["tutor"] + PayoutColumns.column_list
    column_filters = [
        FilterLike("tutor.display_name", "Tuteur"),
        IntEqualFilter(TutorPayout.year, "Année"),
        IntEqualFilter(TutorPayout.month, "Mois"),
        FilterEqual(TutorPayout.status, "Statut", options=choices(PAYOUT_STATUS_LABELS)),
    ]
    column_formatters_export = _exports(PayoutColumns.column_formatters, PAYOUT_MONEY_COLUMNS)


class AccountingCouponView(ReadOnlyModelView):
    """Coupon usage: how often each code was redeemed, against its limit."""

    allowed_roles = ACCOUNTING
    column_list = [
        "code", "kind", "value", "redemptions_count", "max_redemptions",
        "starts_at", "ends_at", "active",
    ]
    column_details_list = column_list + ["description", "created_at"]
    column_searchable_list = ["code"]
    column_sortable_list = ["code", "redemptions_count", "starts_at", "ends_at", "active"]
    column_default_sort = ("redemptions_count", True)
    column_labels = {
        "code": "Code",
        "kind": "Type",
        "value": "Valeur",
        "redemptions_count": "Utilisations",
        "max_redemptions": "Utilisations permises",
        "starts_at": "Valide à partir du",
        "ends_at": "Valide jusqu'au",
        "active": "Actif",
        "description": "Description",
        "created_at": "Créé le",
    }
    column_formatters = {
        "kind": label_column(COUPON_KIND_LABELS),
        "value": coupon_value_column,
        "starts_at": datetime_column,
        "ends_at": datetime_column,
        "created_at": datetime_column,
    }

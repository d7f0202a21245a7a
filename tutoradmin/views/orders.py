"""Orders for the office and the accountant: their columns, flags, coupon filter and « Marquer comme traitée »."""

from flask import flash, redirect, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual
from flask_admin.model.template import EndpointLinkRowAction
from flask_login import current_user
from sqlalchemy import select
from wtforms import TextAreaField
from wtforms.validators import Length

from .. import flags
from ..formatting import local_datetime, money
from ..forms import BaseForm
from ..models import (
    DISPUTE_STATUS_LABELS,
    ORDER_STATUS_LABELS,
    CouponRedemption,
    Order,
    OrderItem,
    utcnow,
)
from .base import OFFICE, ReadOnlyModelView, form_status, perform
from .columns import (
    choices,
    label_column,
    lines,
    money_column,
    order_items_column,
    order_payments_column,
    order_refunds_column,
)
from .filters import local_day_filters
from .keyset import KeysetPagerMixin

MONEY_COLUMNS = ("subtotal_cents", "discount_cents", "credit_cents", "total_cents")


class ClearFlagForm(BaseForm):
    note = TextAreaField("Note (facultative) : ce qui a été fait", validators=[Length(max=1000)])


class FlaggedFilter(BaseSQLAFilter):
    """Orders with a session flagged for the office (a lost slot, a late payment refunded)."""

    def __init__(self):
        super().__init__(Order.id, "Séance signalée", options=[("1", "Oui"), ("0", "Non")])

    def apply(self, query, value, alias=None):
        flagged = select(OrderItem.id).where(OrderItem.order_id == Order.id, OrderItem.flagged_at.is_not(None)).exists()
        return query.filter(flagged if value == "1" else ~flagged)

    def operation(self):
        return "est"


class OrderFlaggedFilter(BaseSQLAFilter):
    """Orders flagged for the office themselves (a dispute, a refund made or failed at the gateway)."""

    def __init__(self):
        super().__init__(Order.flagged_at, "Signalée", options=[("1", "Oui"), ("0", "Non")])

    def apply(self, query, value, alias=None):
        column = self.get_column(alias)
        return query.filter(column.is_not(None) if value == "1" else column.is_(None))

    def operation(self):
        return "est"


ORDER_FLAGGED_FILTER = OrderFlaggedFilter()
ITEM_FLAGGED_FILTER = FlaggedFilter()


class CouponUsedFilter(BaseSQLAFilter):
    """Paid orders that used a coupon (its number), as counted on the coupon's page."""

    def __init__(self):
        super().__init__(Order.id, "Coupon utilisé (numéro)")

    def validate(self, value):
        return value.strip().isdigit() and len(value.strip()) < 10

    def clean(self, value):
        return int(value.strip())

    def apply(self, query, value, alias=None):
        used = (
            select(CouponRedemption.id)
            .where(CouponRedemption.order_id == Order.id, CouponRedemption.coupon_id == value)
            .exists()
        )
        return query.filter(used)

    def operation(self):
        return "est"


COUPON_FILTER = CouponUsedFilter()


def _flag_column(_view, _context, order, _name):
    if order.flagged_at is None:
        return "—"
    return f"Signalée le {local_datetime(order.flagged_at)} : {order.flag_reason or 'sans motif'}"


def _disputes_column(_view, _context, order, _name):
    return lines(
        [
            f"{money(d.amount_cents)} — {DISPUTE_STATUS_LABELS.get(d.status, d.status)} — "
            f"{flags.dispute_reason_label(d.reason)} — "
            f"ouvert le {local_datetime(d.created_at)}"
            + (f" — clos le {local_datetime(d.closed_at)}" if d.closed_at else "")
            + f" — {d.gateway_dispute_id}"
            for d in flags.disputes_of(order)
        ]
    )


class OrderColumns:
    """What an order list shows, for the office and the accountant alike."""

    column_list = ["id", "created_at", "user", "status", *MONEY_COLUMNS, "coupon", "paid_at"]
    column_details_list = [
        "id",
        "created_at",
        "paid_at",
        "user",
        "status",
        "flag",
        "disputes",
        *MONEY_COLUMNS,
        "coupon",
        "items",
        "payments",
        "refunds",
        "billing_first_name",
        "billing_last_name",
        "billing_email",
        "billing_phone",
        "billing_address",
        "billing_city",
        "billing_province",
        "billing_postal_code",
    ]
    column_export_list = [
        "id",
        "created_at",
        "paid_at",
        "billing_email",
        "status",
        *MONEY_COLUMNS,
        "coupon",
    ]
    column_sortable_list = ["id", "created_at", "paid_at", "status", "total_cents"]
    column_default_sort = ("created_at", True)
    column_searchable_list = ["billing_email", "billing_last_name", "user.email"]
    column_filters = [
        FilterEqual(Order.status, "Statut", options=choices(ORDER_STATUS_LABELS)),
        *local_day_filters(Order.paid_at, "Payée"),
        *local_day_filters(Order.created_at, "Créée"),
        ITEM_FLAGGED_FILTER,
        ORDER_FLAGGED_FILTER,
        COUPON_FILTER,
    ]
    column_labels = {
        "id": "Numéro",
        "created_at": "Créée le",
        "paid_at": "Payée le",
        "user": "Client",
        "status": "Statut",
        "subtotal_cents": "Sous-total",
        "discount_cents": "Rabais",
        "credit_cents": "Crédit utilisé",
        "total_cents": "Payé par carte",
        "coupon": "Coupon",
        "items": "Séances",
        "payments": "Paiements",
        "refunds": "Remboursements",
        "flag": "Signalement",
        "disputes": "Litiges (contestations)",
        "billing_first_name": "Prénom",
        "billing_last_name": "Nom",
        "billing_email": "Adresse courriel",
        "billing_phone": "Téléphone",
        "billing_address": "Adresse",
        "billing_city": "Ville",
        "billing_province": "Province",
        "billing_postal_code": "Code postal",
        "user.email": "Adresse courriel du compte",
    }
    column_formatters = {
        **dict.fromkeys(MONEY_COLUMNS, money_column),
        "status": label_column(ORDER_STATUS_LABELS),
        "items": order_items_column,
        "payments": order_payments_column,
        "refunds": order_refunds_column,
        "flag": _flag_column,
        "disputes": _disputes_column,
    }

    @staticmethod
    def flagged_filter_arg():
        """The list's URL argument that keeps flagged orders (filters are numbered by position)."""
        return f"flt0_{OrderColumns.column_filters.index(ORDER_FLAGGED_FILTER)}"

    @staticmethod
    def flagged_items_filter_arg():
        """The list's URL argument that keeps orders with a flagged session."""
        return f"flt0_{OrderColumns.column_filters.index(ITEM_FLAGGED_FILTER)}"

    @staticmethod
    def coupon_filter_arg():
        """The list's URL argument that keeps the orders of one coupon (its number)."""
        return f"flt0_{OrderColumns.column_filters.index(COUPON_FILTER)}"


class OrderView(KeysetPagerMixin, OrderColumns, ReadOnlyModelView):
    """Orders for the office, read-only: refunds go through the refund page."""

    allowed_roles = OFFICE
    column_extra_row_actions = [
        EndpointLinkRowAction("fa fa-undo", "refunds.refund_order", title="Rembourser", id_arg="order_id"),
        EndpointLinkRowAction("fa fa-check", ".clear_flag", title="Marquer comme traitée"),
    ]
    list_template = "admin/order_list.html"
    details_template = "admin/order_details.html"

    @expose("/traiter/<int:id>", methods=("GET", "POST"))
    def clear_flag(self, id):
        """Mark a flagged order as dealt with (the flag's reason stays in the audit log)."""
        order = self.get_one(str(id))
        back = url_for(".details_view", id=order.id)
        if order.flagged_at is None:
            flash(flags.NOT_FLAGGED, "error")
            return redirect(back)
        form = ClearFlagForm()
        if form.validate_on_submit():
            done = perform(
                lambda: flags.clear_order_flag(order, current_user, utcnow(), note=form.note.data),
                f"Commande #{order.id} marquée comme traitée.",
                back,
            )
            if done:
                return done
        summary = [
            f"Commande #{order.id} de {order.user.full_name}, {money(order.total_cents)}",
            f"Signalée le {local_datetime(order.flagged_at)} : {order.flag_reason or 'sans motif'}",
            "Le signalement disparaîtra de la vue d'ensemble ; le journal d'audit en garde le motif.",
        ]
        return self.render(
            "admin/action_form.html",
            title="Marquer la commande comme traitée",
            summary=summary,
            form=form,
            submit_label="Marquer comme traitée",
            back_url=back,
        ), form_status()

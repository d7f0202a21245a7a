"""Refunds: the list for the office and the accountant, and the office's refund page for an order."""

import uuid
from decimal import Decimal

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_login import current_user
from markupsafe import Markup, escape
from wtforms.fields.choices import SelectChoice

from .. import refunds
from ..balances import item_balances, open_to_refund_cents
from ..extensions import db
from ..formatting import local_datetime, money
from ..models import REFUND_STATUS_LABELS, Order, Refund, utcnow
from ..payments import get_gateway
from .base import ACCOUNTING, OFFICE, ReadOnlyModelView, form_status
from .columns import choices, datetime_column, label_column, money_column, money_export
from .filters import local_day_filters
from .forms import RefundForm


def _order_link(view, _context, refund, _name):
    url = url_for(f"{view.order_endpoint}.details_view", id=refund.order_id)
    return Markup(f'<a href="{url}">') + escape(f"Commande #{refund.order_id}") + Markup("</a>")


class RefundColumns:
    """What a refund list shows: amount, status, the gateway's reference and who asked."""

    #: The order list this role reads, for the link to each refund's order.
    order_endpoint = "orders"

    column_list = [
        "id",
        "order",
        "amount_cents",
        "status",
        "reason",
        "created_at",
        "processed_at",
        "gateway_refund_id",
    ]
    column_details_list = [*column_list, "failure_message", "created_by"]
    column_export_list = [
        "id",
        "order_id",
        "amount_cents",
        "status",
        "reason",
        "created_at",
        "processed_at",
        "gateway_refund_id",
    ]
    column_sortable_list = ["id", "amount_cents", "status", "created_at", "processed_at"]
    column_default_sort = ("created_at", True)
    column_filters = [
        FilterEqual(Refund.status, "Statut", options=choices(REFUND_STATUS_LABELS)),
        *local_day_filters(Refund.processed_at, "Effectué"),
    ]
    column_labels = {
        "id": "Numéro",
        "order": "Commande",
        "order_id": "Commande",
        "amount_cents": "Montant",
        "status": "Statut",
        "reason": "Motif",
        "created_at": "Demandé le",
        "processed_at": "Effectué le",
        "gateway_refund_id": "Référence du processeur",
        "failure_message": "Erreur",
        "created_by": "Par",
    }
    column_formatters = {
        "order": _order_link,
        "amount_cents": money_column,
        "status": label_column(REFUND_STATUS_LABELS),
        "created_at": datetime_column,
        "processed_at": datetime_column,
    }
    column_formatters_export = {**column_formatters, "amount_cents": money_export}


class AccountingRefundView(RefundColumns, ReadOnlyModelView):
    allowed_roles = ACCOUNTING
    order_endpoint = "accounting_orders"


def _session_label(balance):
    item = balance.item
    appointment = item.appointment
    state = " (déjà annulée)" if appointment is not None and not balance.cancellable else ""
    return (
        f"{item.course.title} — {item.tutor.display_name} — {local_datetime(item.starts_at)} "
        f"({item.duration_minutes} min) — payé par carte {money(balance.card_cents)}{state}"
    )


class RefundView(RefundColumns, ReadOnlyModelView):
    """The office's refunds, and the page that refunds an order through the gateway."""

    allowed_roles = OFFICE

    def _refund_form(self, order_id):
        order = db.session.get(Order, order_id)
        if order is None:
            abort(404)
        balances = item_balances(order)
        form = RefundForm()
        form.sessions.choices = [SelectChoice(b.item.id, _session_label(b)) for b in balances if b.cancellable]
        return order, balances, form, open_to_refund_cents(order, balances)

    def _page(self, order, balances, form, refundable, confirming=False):
        chosen = set(form.sessions.data or []) if confirming else set()
        return self.render(
            "admin/refund_order.html",
            order=order,
            balances=balances,
            form=form,
            refundable=refundable,
            status_labels=REFUND_STATUS_LABELS,
            confirming=confirming,
            amount_text=f"{Decimal(form.amount.data or 0).scaleb(-2):.2f}" if confirming else "",
            chosen_sessions=[choice.label for choice in form.sessions.choices if choice.value in chosen],
        )

    @expose("/commande/<int:order_id>/confirmer", methods=("POST",))
    def confirm_refund(self, order_id):
        """The confirmation step: what will be refunded and cancelled, before the gateway is called."""
        order, balances, form, refundable = self._refund_form(order_id)
        if not form.validate_on_submit():
            return self._page(order, balances, form, refundable), 400
        return self._page(order, balances, form, refundable, confirming=True)

    @expose("/commande/<int:order_id>", methods=("GET", "POST"))
    def refund_order(self, order_id):
        """The refund page; its POST (sent from the confirmation step) calls the gateway."""
        order, balances, form, refundable = self._refund_form(order_id)
        if request.method == "GET":
            form.request_key.data = uuid.uuid4().hex
            form.amount.data = refundable or None
        if form.validate_on_submit():
            try:
                refund = refunds.refund_order(
                    order,
                    form.amount.data,
                    form.sessions.data or [],
                    form.reason.data,
                    current_user,
                    utcnow(),
                    get_gateway(current_app.config),
                    form.request_key.data,
                )
            except refunds.RefundError as exc:
                db.session.rollback()
                flash(str(exc), "error")
            else:
                db.session.commit()
                if refund.status == "failed":
                    flash(f"Le remboursement a été refusé par le processeur : {refund.failure_message}", "error")
                else:
                    flash(
                        f"Remboursement de {money(refund.amount_cents)} effectué "
                        f"(référence {refund.gateway_refund_id}).",
                        "success",
                    )
                return redirect(url_for(".refund_order", order_id=order.id))
        return self._page(order, balances, form, refundable), form_status()

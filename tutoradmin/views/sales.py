"""Sales for the office: appointments and orders.

Appointments are not edited here: booking, cancelling and rescheduling go through the booking
rules (time locks, credits, history), which the dedicated actions will call.
"""

from flask_admin.contrib.sqla.filters import FilterEqual, FilterLike

from ..models import APPOINTMENT_STATUS_LABELS, ORDER_STATUS_LABELS, Appointment, Order
from .base import OFFICE, ReadOnlyModelView, SecureModelView
from .columns import (
    choices,
    datetime_column,
    label_column,
    money_column,
    order_items_column,
    order_payments_column,
    order_refunds_column,
    session_time_column,
)
from .filters import local_day_filters

MONEY_COLUMNS = ("subtotal_cents", "discount_cents", "credit_cents", "total_cents")


def _order_of_item(_view, _context, appointment, _name):
    item = appointment.order_item
    return f"Commande #{item.order_id}" if item else "Sans paiement"


class AppointmentView(SecureModelView):
    """Every session, filterable by status, date, tutor, student and course."""

    allowed_roles = OFFICE
    can_create = False
    can_edit = False
    can_delete = False
    column_list = ["starts_at", "course", "tutor", "student", "duration_minutes", "status"]
    column_details_list = [
        "id", "starts_at", "course", "tutor", "student", "duration_minutes", "status",
        "order_item", "cancelled_at", "cancellation_reason", "completed_at", "created_at",
    ]
    column_sortable_list = ["starts_at", "duration_minutes", "status"]
    column_default_sort = ("starts_at", True)
    column_searchable_list = [
        "student.email", "student.last_name", "tutor.display_name", "course.title",
    ]
    column_filters = [
        FilterEqual(Appointment.status, "Statut", options=choices(APPOINTMENT_STATUS_LABELS)),
        *local_day_filters(Appointment.starts_at, "Date"),
        FilterLike("tutor.display_name", "Tuteur"),
        FilterLike("student.email", "Étudiant (courriel)"),
        FilterLike("student.last_name", "Étudiant (nom)"),
        FilterLike("course.title", "Cours"),
    ]
    column_labels = {
        "id": "Numéro",
        "starts_at": "Séance",
        "course": "Cours",
        "tutor": "Tuteur",
        "student": "Étudiant",
        "duration_minutes": "Durée (min)",
        "status": "Statut",
        "order_item": "Commande",
        "cancelled_at": "Annulée le",
        "cancellation_reason": "Motif d'annulation",
        "completed_at": "Terminée le",
        "created_at": "Créée le",
        "student.email": "Courriel de l'étudiant",
        "student.last_name": "Nom de l'étudiant",
        "tutor.display_name": "Tuteur",
        "course.title": "Cours",
    }
    column_formatters = {
        "starts_at": session_time_column,
        "status": label_column(APPOINTMENT_STATUS_LABELS),
        "order_item": _order_of_item,
        "cancelled_at": datetime_column,
        "completed_at": datetime_column,
        "created_at": datetime_column,
    }


class OrderColumns:
    """What an order list shows, for the office and the accountant alike."""

    column_list = ["id", "created_at", "user", "status", *MONEY_COLUMNS, "coupon", "paid_at"]
    column_details_list = [
        "id", "created_at", "paid_at", "user", "status", *MONEY_COLUMNS, "coupon",
        "items", "payments", "refunds",
        "billing_first_name", "billing_last_name", "billing_email", "billing_phone",
        "billing_address", "billing_city", "billing_province", "billing_postal_code",
    ]
    column_export_list = [
        "id", "created_at", "paid_at", "billing_email", "status", *MONEY_COLUMNS, "coupon",
    ]
    column_sortable_list = ["id", "created_at", "paid_at", "status", "total_cents"]
    column_default_sort = ("created_at", True)
    column_searchable_list = ["billing_email", "billing_last_name", "user.email"]
    column_filters = [
        FilterEqual(Order.status, "Statut", options=choices(ORDER_STATUS_LABELS)),
        *local_day_filters(Order.paid_at, "Payée"),
        *local_day_filters(Order.created_at, "Créée"),
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
        "billing_first_name": "Prénom",
        "billing_last_name": "Nom",
        "billing_email": "Courriel",
        "billing_phone": "Téléphone",
        "billing_address": "Adresse",
        "billing_city": "Ville",
        "billing_province": "Province",
        "billing_postal_code": "Code postal",
        "user.email": "Courriel du compte",
    }
    column_formatters = {
        **{name: money_column for name in MONEY_COLUMNS},
        "status": label_column(ORDER_STATUS_LABELS),
        "created_at": datetime_column,
        "paid_at": datetime_column,
        "items": order_items_column,
        "payments": order_payments_column,
        "refunds": order_refunds_column,
    }


class OrderView(OrderColumns, ReadOnlyModelView):
    """Orders for the office, read-only: refunds go through the refund page."""

    allowed_roles = OFFICE

"""Support tickets for the office: triage by status, priority, category and assignee."""

from flask_admin.contrib.sqla.filters import FilterEqual, FilterLike
from markupsafe import Markup, escape
from sqlalchemy import select

from ..extensions import db
from ..formatting import local_datetime
from ..models import TICKET_STATUS_LABELS, Role, Ticket, User
from .base import OFFICE, SecureModelView
from .columns import (
    TICKET_CATEGORY_LABELS,
    TICKET_PRIORITY_LABELS,
    choices,
    datetime_column,
    label_column,
)
from .filters import local_day_filters


def _office_accounts():
    return db.session.scalars(
        select(User).where(User.role.in_([Role.ADMIN.value, Role.STAFF.value])).order_by(User.email)
    )


def _messages_column(_view, _context, ticket, _name):
    """The conversation, internal notes marked as such."""
    lines = [
        escape(
            f"{local_datetime(m.created_at)} — {m.author}"
            f"{' (note interne)' if m.is_internal else ''} : {m.body}"
        )
        for m in ticket.messages
    ]
    return Markup("<br>").join(lines)


class TicketView(SecureModelView):
    allowed_roles = OFFICE
    can_create = False
    can_delete = False
    column_list = [
        "id", "created_at", "student", "subject", "category", "priority", "status", "assignee",
    ]
    column_details_list = [
        "id", "created_at", "updated_at", "student", "subject", "category", "priority",
        "status", "assignee", "order_id", "appointment_id", "messages",
    ]
    column_searchable_list = ["subject", "student.email", "student.last_name"]
    column_sortable_list = ["id", "created_at", "priority", "status"]
    column_default_sort = ("created_at", True)
    column_filters = [
        FilterEqual(Ticket.status, "Statut", options=choices(TICKET_STATUS_LABELS)),
        FilterEqual(Ticket.priority, "Priorité", options=choices(TICKET_PRIORITY_LABELS)),
        FilterEqual(Ticket.category, "Catégorie", options=choices(TICKET_CATEGORY_LABELS)),
        FilterLike("assignee.email", "Assigné à (courriel)"),
        *local_day_filters(Ticket.created_at, "Créé"),
    ]
    column_labels = {
        "id": "Numéro",
        "created_at": "Créé le",
        "updated_at": "Mis à jour le",
        "student": "Étudiant",
        "subject": "Sujet",
        "category": "Catégorie",
        "priority": "Priorité",
        "status": "Statut",
        "assignee": "Assigné à",
        "order_id": "Commande",
        "appointment_id": "Séance",
        "messages": "Messages",
        "student.email": "Courriel de l'étudiant",
        "student.last_name": "Nom de l'étudiant",
    }
    column_formatters = {
        "created_at": datetime_column,
        "updated_at": datetime_column,
        "category": label_column(TICKET_CATEGORY_LABELS),
        "priority": label_column(TICKET_PRIORITY_LABELS),
        "status": label_column(TICKET_STATUS_LABELS),
        "messages": _messages_column,
    }
    form_columns = ["category", "priority", "status", "assignee"]
    form_choices = {
        "category": choices(TICKET_CATEGORY_LABELS),
        "priority": choices(TICKET_PRIORITY_LABELS),
        "status": choices(TICKET_STATUS_LABELS),
    }
    form_args = {"assignee": {"query_factory": _office_accounts}}

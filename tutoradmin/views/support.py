"""Support tickets for the office: triage by status, priority, category and assignee."""

from flask import abort, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual, FilterLike
from flask_admin.model.template import EndpointLinkRowAction
from flask_login import current_user
from sqlalchemy import select

from .. import attachments, support
from ..extensions import db
from ..formatting import local_datetime
from ..models import (
    TICKET_CATEGORY_LABELS,
    TICKET_PRIORITY_LABELS,
    TICKET_STATUS_LABELS,
    Role,
    Ticket,
    TicketStatus,
    User,
    utcnow,
)
from .base import OFFICE, SecureModelView, form_status, perform
from .columns import choices, label_column, lines
from .fields import ChoiceOrBlankField
from .filters import local_day_filters
from .forms import TicketReplyForm


def _office_accounts():
    return db.session.scalars(
        select(User).where(User.role.in_([Role.ADMIN.value, Role.STAFF.value])).order_by(User.email)
    )


class UnansweredFilter(BaseSQLAFilter):
    """Open tickets whose latest public message is the student's: the office owes them a reply."""

    def __init__(self):
        super().__init__(Ticket.id, "Sans réponse", options=[("1", "Oui"), ("0", "Non")])

    def apply(self, query, value, alias=None):
        condition = support.unanswered()
        return query.filter(condition if value == "1" else ~condition)

    def operation(self):
        return "est"


def _message_line(message):
    note = " (note interne)" if message.is_internal else ""
    return f"{local_datetime(message.created_at)} — {message.author.full_name}{note} : {message.body}"


def _messages_column(_view, _context, ticket, _name):
    """The conversation, internal notes marked as such."""
    return lines([_message_line(m) for m in ticket.messages])


class TicketView(SecureModelView):
    allowed_roles = OFFICE
    can_create = False
    can_delete = False
    column_list = [
        "id",
        "created_at",
        "student",
        "subject",
        "category",
        "priority",
        "status",
        "assignee",
    ]
    column_details_list = [
        "id",
        "created_at",
        "updated_at",
        "student",
        "subject",
        "category",
        "priority",
        "status",
        "assignee",
        "order_id",
        "appointment_id",
        "messages",
    ]
    column_searchable_list = ["subject", "student.email", "student.last_name"]
    column_sortable_list = ["id", "created_at", "priority", "status"]
    column_default_sort = ("created_at", True)
    column_filters = [
        FilterEqual(Ticket.status, "Statut", options=choices(TICKET_STATUS_LABELS)),
        FilterEqual(Ticket.priority, "Priorité", options=choices(TICKET_PRIORITY_LABELS)),
        FilterEqual(Ticket.category, "Catégorie", options=choices(TICKET_CATEGORY_LABELS)),
        UnansweredFilter(),
        FilterLike("assignee.email", "Assigné à (adresse courriel)"),
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
        "student.email": "Adresse courriel de l'étudiant",
        "student.last_name": "Nom de l'étudiant",
    }
    column_formatters = {
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
    form_overrides = {"assignee": ChoiceOrBlankField}
    form_args = {"assignee": {"query_factory": _office_accounts}}
    column_extra_row_actions = [
        EndpointLinkRowAction("fa fa-reply", ".reply", title="Répondre ou ajouter une note"),
    ]

    @expose("/repondre/<int:id>", methods=("GET", "POST"))
    def reply(self, id):
        """The conversation, its files and the student's new messages; a reply to the student or an internal note."""
        ticket = self.get_one(str(id))
        if ticket is None:
            abort(404)
        form = TicketReplyForm()
        if form.validate_on_submit():
            done = perform(
                lambda: support.reply(
                    ticket,
                    current_user,
                    form.body.data,
                    form.internal.data,
                    utcnow(),
                    uploads=attachments.read_uploads(request.files.getlist("pieces_jointes")),
                ),
                "Note interne ajoutée." if form.internal.data else "Réponse envoyée à l'étudiant.",
                url_for(".reply", id=ticket.id),
            )
            if done:
                return done
        return self.render(
            "admin/ticket_reply.html",
            ticket=support.load_conversation(ticket),
            form=form,
            new_ids=support.new_from_student(ticket),
            unanswered=support.is_unanswered(ticket),
            closed=ticket.status == TicketStatus.CLOSED,
            category_label=TICKET_CATEGORY_LABELS.get(ticket.category, ticket.category),
            status_label=TICKET_STATUS_LABELS.get(ticket.status, ticket.status),
            back_url=url_for(".index_view"),
        ), form_status()

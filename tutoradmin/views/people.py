"""People: students for the office; every account and the audit log for administrators."""

from flask import url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_admin.model.template import EndpointLinkRowAction
from flask_login import current_user, login_user
from sqlalchemy import select
from wtforms.validators import InputRequired, ValidationError

from .. import audit, credits
from ..accounts import AccountError, check_saved_account, end_sessions_if_access_changed
from ..extensions import db
from ..formatting import local_datetime, money
from ..models import (
    APPOINTMENT_STATUS_LABELS,
    ORDER_STATUS_LABELS,
    ROLE_LABELS,
    TICKET_STATUS_LABELS,
    USER_STATUS_LABELS,
    Appointment,
    AuditLog,
    Order,
    Role,
    Ticket,
    User,
    utcnow,
)
from .audit_values import changes_column, values_column, values_export
from .base import ADMIN_ONLY, OFFICE, ReadOnlyModelView, RowsModelView, SecureModelView, form_status, perform
from .columns import choices, label_column, lines
from .fields import NewPasswordField
from .forms import CreditAdjustmentForm

USER_LABELS = {
    "email": "Adresse courriel",
    "role": "Rôle",
    "status": "Statut",
    "first_name": "Prénom",
    "last_name": "Nom",
    "phone": "Téléphone",
    "created_at": "Créé le",
    "last_login_at": "Dernière connexion",
    "password": "Nouveau mot de passe",
}
USER_FORMATTERS = {
    "role": label_column(ROLE_LABELS),
    "status": label_column(USER_STATUS_LABELS),
}
STATUS_FILTER = FilterEqual(User.status, "Statut", options=choices(USER_STATUS_LABELS))


def _credit_column(_view, _context, student, _name):
    return money(credits.balance_cents(student.id))


def _newest(model, owner_column, order_column, student):
    return db.session.scalars(select(model).where(owner_column == student.id).order_by(order_column.desc())).all()


def _orders_column(_view, _context, student, _name):
    return lines(
        [
            f"#{o.id} — {local_datetime(o.created_at)} — {ORDER_STATUS_LABELS.get(o.status, o.status)} — "
            f"{money(o.total_cents)}"
            for o in _newest(Order, Order.user_id, Order.created_at, student)
        ]
    )


def _appointments_column(_view, _context, student, _name):
    return lines(
        [
            f"{local_datetime(a.starts_at)} — {a.course.title} avec {a.tutor.display_name} — "
            f"{APPOINTMENT_STATUS_LABELS.get(a.status, a.status)}"
            for a in _newest(Appointment, Appointment.student_id, Appointment.starts_at, student)
        ]
    )


def _tickets_column(_view, _context, student, _name):
    return lines(
        [
            f"#{t.id} — {local_datetime(t.created_at)} — {t.subject} — {TICKET_STATUS_LABELS.get(t.status, t.status)}"
            for t in _newest(Ticket, Ticket.student_id, Ticket.created_at, student)
        ]
    )


class StudentView(RowsModelView):
    """Student accounts: contact details, suspension, credit and activity; they sign up themselves."""

    allowed_roles = OFFICE
    can_create = False
    can_delete = False
    can_export = True
    column_list = [
        "email",
        "first_name",
        "last_name",
        "phone",
        "status",
        "created_at",
        "last_login_at",
    ]
    column_details_list = [*column_list, "credit", "orders", "appointments", "tickets"]
    column_extra_row_actions = [
        EndpointLinkRowAction("fa fa-money", ".credit", title="Crédit : solde et ajustement"),
    ]
    column_searchable_list = ["email", "first_name", "last_name", "phone"]
    column_sortable_list = ["email", "last_name", "status", "created_at", "last_login_at"]
    column_default_sort = ("created_at", True)
    column_filters = [STATUS_FILTER]
    column_labels = {
        **USER_LABELS,
        "credit": "Solde de crédit",
        "orders": "Commandes",
        "appointments": "Rendez-vous",
        "tickets": "Billets de support",
    }
    column_formatters = USER_FORMATTERS
    column_formatters_detail = {
        **USER_FORMATTERS,
        "credit": _credit_column,
        "orders": _orders_column,
        "appointments": _appointments_column,
        "tickets": _tickets_column,
    }
    form_columns = ["first_name", "last_name", "phone", "status"]
    form_choices = {"status": choices(USER_STATUS_LABELS)}

    def on_model_change(self, form, model, is_created):
        audit.record_changes(current_user, "user.status_changed", model, ["status"], utcnow())
        end_sessions_if_access_changed(model)

    @expose("/credit/<int:id>", methods=("GET", "POST"))
    def credit(self, id):
        """The student's credit balance and history, and a manual adjustment with its reason."""
        student = self.get_one(str(id))
        form = CreditAdjustmentForm()
        if form.validate_on_submit():
            done = perform(
                lambda: credits.adjust(
                    student, form.direction.data, form.amount.data, form.reason.data, current_user, utcnow()
                ),
                "Crédit ajusté.",
                url_for(".credit", id=student.id),
            )
            if done:
                return done
        return self.render(
            "admin/student_credit.html",
            student=student,
            form=form,
            balance=credits.balance_cents(student.id),
            reserved=credits.reserved_cents(student.id),
            entries=credits.history(student.id),
        ), form_status()

    def rows(self):
        return User.role == Role.STUDENT.value

    def shows(self, record):
        return record.role == Role.STUDENT


class UserView(SecureModelView):
    """Every account, its role and status; passwords are only ever set, never shown."""

    allowed_roles = ADMIN_ONLY
    can_delete = False
    column_list = [
        "email",
        "first_name",
        "last_name",
        "role",
        "status",
        "created_at",
        "last_login_at",
    ]
    column_details_list = [
        "email",
        "first_name",
        "last_name",
        "phone",
        "role",
        "status",
        "created_at",
        "last_login_at",
    ]
    column_searchable_list = ["email", "first_name", "last_name"]
    column_sortable_list = ["email", "last_name", "role", "status", "created_at", "last_login_at"]
    column_default_sort = ("created_at", True)
    column_filters = [FilterEqual(User.role, "Rôle", options=choices(ROLE_LABELS)), STATUS_FILTER]
    column_labels = USER_LABELS
    column_formatters = USER_FORMATTERS
    form_columns = ["email", "first_name", "last_name", "phone", "role", "status", "password"]
    form_extra_fields = {
        "password": NewPasswordField(
            "Nouveau mot de passe",
            description=("Obligatoire à la création ; laisser vide pour garder le mot de passe actuel."),
        )
    }
    form_choices = {"role": choices(ROLE_LABELS), "status": choices(USER_STATUS_LABELS)}
    form_args = {"email": {"validators": [InputRequired()]}}

    def on_model_change(self, form, model, is_created):
        try:
            check_saved_account(model, form.password.data, is_created)
        except AccountError as exc:
            raise ValidationError(str(exc)) from exc
        if not is_created:
            now = utcnow()
            audit.record_changes(current_user, "user.role_changed", model, ["role"], now)
            audit.record_changes(current_user, "user.status_changed", model, ["status"], now)
            end_sessions_if_access_changed(model)

    def after_model_change(self, form, model, is_created):
        if model.id == current_user.id:
            # An administrator's edit of their own account (a new password) signs out their other browsers,
            # not this one.
            login_user(model)


class AuditLogView(ReadOnlyModelView):
    """Who did which sensitive thing, and when."""

    allowed_roles = ADMIN_ONLY
    column_list = ["created_at", "actor", "action", "target_type", "target_id", "changes"]
    column_details_list = [
        "created_at",
        "actor",
        "action",
        "target_type",
        "target_id",
        "before",
        "after",
    ]
    # Spreadsheets get the recorded values as JSON, as they were written.
    column_export_list = column_details_list
    column_searchable_list = ["action", "target_type"]
    column_sortable_list = ["created_at", "action"]
    column_default_sort = ("created_at", True)
    column_filters = [FilterEqual(AuditLog.action, "Action", options=sorted(audit.ACTION_LABELS.items()))]
    column_labels = {
        "created_at": "Date",
        "actor": "Par",
        "action": "Action",
        "target_type": "Objet",
        "target_id": "Numéro",
        "before": "Avant",
        "after": "Après",
        "changes": "Détails",
    }
    column_formatters = {
        "action": label_column(audit.ACTION_LABELS),
        "target_type": label_column(audit.TARGET_LABELS),
        "changes": changes_column,
        "before": values_column,
        "after": values_column,
    }
    column_formatters_export = {**column_formatters, "before": values_export, "after": values_export}

"""People: students for the office; every account and the audit log for administrators."""

from flask import abort
from flask_admin.contrib.sqla.filters import FilterEqual
from wtforms.validators import InputRequired, ValidationError

from ..accounts import EMAIL_TAKEN
from ..extensions import db
from ..models import ROLE_LABELS, AuditLog, Role, User
from .base import ADMIN_ONLY, OFFICE, ReadOnlyModelView, SecureModelView
from .columns import USER_STATUS_LABELS, choices, datetime_column, label_column
from .fields import NewPasswordField

USER_LABELS = {
    "email": "Courriel",
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
    "created_at": datetime_column,
    "last_login_at": datetime_column,
}
STATUS_FILTER = FilterEqual(User.status, "Statut", options=choices(USER_STATUS_LABELS))


class StudentView(SecureModelView):
    """Student accounts: contact details and suspension; they sign up themselves."""

    allowed_roles = OFFICE
    can_create = False
    can_delete = False
    column_list = [
        "email", "first_name", "last_name", "phone", "status", "created_at", "last_login_at",
    ]
    column_details_list = column_list
    column_searchable_list = ["email", "first_name", "last_name", "phone"]
    column_sortable_list = ["email", "last_name", "status", "created_at", "last_login_at"]
    column_default_sort = ("created_at", True)
    column_filters = [STATUS_FILTER]
    column_labels = USER_LABELS
    column_formatters = USER_FORMATTERS
    form_columns = ["first_name", "last_name", "phone", "status"]
    form_choices = {"status": choices(USER_STATUS_LABELS)}

    def _students(self, query):
        return query.filter(User.role == Role.STUDENT.value)

    def get_query(self):
        return self._students(super().get_query())

    def get_count_query(self):
        return self._students(super().get_count_query())

    def get_one(self, id):
        user = super().get_one(id)
        if user.role != Role.STUDENT:
            abort(404)
        return user


class UserView(SecureModelView):
    """Every account, its role and status; passwords are only ever set, never shown."""

    allowed_roles = ADMIN_ONLY
    can_delete = False
    column_list = [
        "email", "first_name", "last_name", "role", "status", "created_at", "last_login_at",
    ]
    column_details_list = [
        "email", "first_name", "last_name", "phone", "role", "status",
        "created_at", "last_login_at",
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
            description=(
                "Obligatoire à la création ; laisser vide pour garder le mot de passe actuel."
            ),
        )
    }
    form_choices = {"role": choices(ROLE_LABELS), "status": choices(USER_STATUS_LABELS)}
    form_args = {"email": {"validators": [InputRequired()]}}

    def on_model_change(self, form, model, is_created):
        if "@" not in (model.email or ""):
            raise ValidationError("Adresse courriel invalide.")
        with db.session.no_autoflush:
            existing = User.find_by_email(model.email)
        if existing is not None and existing is not model:
            raise ValidationError(EMAIL_TAKEN)
        if is_created and not form.password.data:
            raise ValidationError("Choisissez un mot de passe pour le nouveau compte.")


class AuditLogView(ReadOnlyModelView):
    """Who did which sensitive thing, and when."""

    allowed_roles = ADMIN_ONLY
    column_list = ["created_at", "actor", "action", "target_type", "target_id"]
    column_details_list = [
        "created_at", "actor", "action", "target_type", "target_id", "before", "after",
    ]
    column_searchable_list = ["action", "target_type"]
    column_sortable_list = ["created_at", "action"]
    column_default_sort = ("created_at", True)
    column_filters = [FilterEqual(AuditLog.action, "Action")]
    column_labels = {
        "created_at": "Date",
        "actor": "Par",
        "action": "Action",
        "target_type": "Objet",
        "target_id": "Numéro",
        "before": "Avant",
        "after": "Après",
    }
    column_formatters = {"created_at": datetime_column}

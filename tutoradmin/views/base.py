"""Secure base classes for every back-office view: role checks, CSRF, row ownership."""

from flask import abort, redirect, request, url_for
from flask_admin import AdminIndexView, BaseView
from flask_admin.contrib.sqla import ModelView
from flask_admin.form import SecureForm
from flask_login import current_user

from ..models import Role

ADMIN_ONLY = frozenset({Role.ADMIN})
OFFICE = frozenset({Role.ADMIN, Role.STAFF})
ACCOUNTING = frozenset({Role.ACCOUNTANT})
TUTORS = frozenset({Role.TUTOR})


class RoleRequired:
    """Grants a view to the roles in `allowed_roles`; anonymous users go to the login page."""

    allowed_roles = frozenset()

    def is_accessible(self):
        return (
            current_user.is_authenticated
            and current_user.is_active
            and current_user.role in self.allowed_roles
        )

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("public.login", next=request.full_path.rstrip("?")))
        abort(403)


class SecureIndexView(RoleRequired, AdminIndexView):
    pass


class SecureView(RoleRequired, BaseView):
    pass


class SecureModelView(RoleRequired, ModelView):
    """A model view with CSRF-protected forms and French-friendly defaults."""

    form_base_class = SecureForm
    page_size = 25
    can_view_details = True
    can_set_page_size = True


class ReadOnlyModelView(SecureModelView):
    """Lists and details only, with CSV export; any write is refused on the server."""

    can_create = False
    can_edit = False
    can_delete = False
    can_export = True
    export_types = ["csv"]

    def create_model(self, form):
        abort(403)

    def update_model(self, form, model):
        abort(403)

    def delete_model(self, model):
        abort(403)


class OwnRowsModelView(SecureModelView):
    """A tutor's view restricted to their own rows in lists, counts, details, edits and deletes."""

    allowed_roles = TUTORS
    #: Column of the model holding the tutor id.
    owner_column = "tutor_id"

    def current_tutor_id(self):
        tutor = current_user.tutor_profile
        if tutor is None:
            abort(403)
        return tutor.id

    def _owned(self, query):
        column = getattr(self.model, self.owner_column)
        return query.filter(column == self.current_tutor_id())

    def get_query(self):
        return self._owned(super().get_query())

    def get_count_query(self):
        return self._owned(super().get_count_query())

    def get_one(self, id):
        record = super().get_one(id)
        if record is None or getattr(record, self.owner_column) != self.current_tutor_id():
            abort(404)
        return record

    def on_model_change(self, form, model, is_created):
        # Whatever the form says, a tutor's rows belong to that tutor.
        setattr(model, self.owner_column, self.current_tutor_id())

"""Secure base classes for every back-office view: role checks, CSRF, row ownership."""

from flask import abort, flash, redirect, request, url_for
from flask_admin import AdminIndexView, BaseView
from flask_admin.contrib.sqla import ModelView
from flask_login import current_user
from flask_wtf import FlaskForm

from ..extensions import db
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


class SecureForm(FlaskForm):
    """Back-office forms, checked against the site's one CSRF token (Flask-WTF).

    Flask-Admin's own SecureForm keeps a second token of its own; next to the app-wide
    CSRFProtect, a submitted admin form would carry both and always fail one of the two checks.
    """

    def __init__(self, formdata=None, obj=None, prefix="", **kwargs):
        # Flask-Admin's uniqueness validator tells the edited record apart through `_obj`.
        self._obj = obj
        super().__init__(formdata=formdata, obj=obj, prefix=prefix, **kwargs)


class SecureIndexView(RoleRequired, AdminIndexView):
    pass


class SecureView(RoleRequired, BaseView):
    pass


class SecureModelView(RoleRequired, ModelView):
    """A model view with CSRF-protected forms and French-friendly defaults."""

    form_base_class = SecureForm
    page_size = 25
    page_size_options = (25, 50, 100)
    can_view_details = True
    can_set_page_size = True
    # A record's page links to the same actions as its row in the list.
    details_template = "admin/model_details.html"

    #: Endpoints that write, and the permission each one needs.
    write_endpoints = {
        "create_view": "can_create",
        "edit_view": "can_edit",
        "delete_view": "can_delete",
        "ajax_update": "can_edit",
    }

    def _handle_view(self, name, **kwargs):
        refused = super()._handle_view(name, **kwargs)
        if refused is not None:
            return refused
        # Flask-Admin answers a write it does not allow with a quiet redirect; refuse it plainly.
        permission = self.write_endpoints.get(name)
        if permission is not None and not getattr(self, permission):
            abort(403)
        return None

    def get_one(self, id):
        # Ids come from the URL: a malformed or unknown one is simply not found.
        if not str(id).isdigit():
            abort(404)
        record = super().get_one(id)
        if record is None:
            abort(404)
        return record


class ReadOnlyModelView(SecureModelView):
    """Lists and details only, with CSV export; any write is refused on the server."""

    can_create = False
    can_edit = False
    can_delete = False
    can_export = True
    export_types = ["csv"]
    # Bulk actions write too (Flask-Admin's only default one deletes).
    write_endpoints = {**SecureModelView.write_endpoints, "action_view": "can_delete"}

    def create_model(self, form):
        abort(403)

    def update_model(self, form, model):
        abort(403)

    def delete_model(self, model):
        abort(403)


class RowsModelView(SecureModelView):
    """A model view limited to some rows, in lists, counts, details, edits and deletes alike."""

    def rows(self):
        """SQL condition: the rows this view may show."""
        raise NotImplementedError

    def shows(self, record):
        """The same condition on a loaded row."""
        raise NotImplementedError

    def get_query(self):
        return super().get_query().filter(self.rows())

    def get_count_query(self):
        return super().get_count_query().filter(self.rows())

    def get_one(self, id):
        record = super().get_one(id)
        if not self.shows(record):
            abort(404)
        return record


class OwnRowsModelView(RowsModelView):
    """A tutor's view restricted to their own rows."""

    allowed_roles = TUTORS
    #: Column of the model holding the tutor id.
    owner_column = "tutor_id"

    def current_tutor_id(self):
        # Loading the profile must not flush a half-built new row (its owner is not set yet).
        with db.session.no_autoflush:
            tutor = current_user.tutor_profile
        if tutor is None:
            abort(403)
        return tutor.id

    def rows(self):
        return getattr(self.model, self.owner_column) == self.current_tutor_id()

    def shows(self, record):
        return getattr(record, self.owner_column) == self.current_tutor_id()

    def on_model_change(self, form, model, is_created):
        # Whatever the form says, a tutor's rows belong to that tutor.
        setattr(model, self.owner_column, self.current_tutor_id())


def perform(change, refused, success, next_url):
    """Run a back-office form's domain change: commit, flash and redirect, or roll back and flash why not.

    `change` is called with no argument; `refused` is the domain error class whose French message
    is shown; `success` and `next_url` are text or functions of the change's result. Returns the
    redirect, or None when the change was refused and the form is to be shown again.
    """
    try:
        result = change()
    except refused as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return None
    db.session.commit()
    flash(success(result) if callable(success) else success, "success")
    return redirect(next_url(result) if callable(next_url) else next_url)


def form_status():
    """A form shown again after a POST was refused: 400, so that clients and tests can tell."""
    return 400 if request.method == "POST" else 200

"""Secure base classes for every back-office view: role checks, CSRF, row ownership."""

from flask import abort, flash, redirect, request, url_for
from flask_admin import AdminIndexView, BaseView
from flask_admin.actions import action
from flask_admin.contrib.sqla import ModelView
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from ..errors import DomainError
from ..extensions import db
from ..forms import BaseForm, refusal
from ..models import MAX_INTEGER, Role, utcnow
from . import csv_export
from .columns import COMMON_LABELS, DETAIL_TYPE_FORMATTERS, TYPE_FORMATTERS

ADMIN_ONLY = frozenset({Role.ADMIN})
OFFICE = frozenset({Role.ADMIN, Role.STAFF})
ACCOUNTING = frozenset({Role.ACCOUNTANT})
TUTORS = frozenset({Role.TUTOR})
#: The "none" choice of a select that may be left blank.
NO_CHOICE = "—"
IN_USE = "Opération refusée : cet élément est lié à un historique, existe déjà ou sort des limites permises."


def record_id_of(value):
    """The integer id written in `value` (URL or form text), or None when it cannot be a row's id."""
    text = str(value)
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_INTEGER)):
        return None
    number = int(text)
    return number if 0 < number <= MAX_INTEGER else None


class RoleRequired:
    """Grants a view to the roles in `allowed_roles`; anonymous users go to the login page."""

    allowed_roles = frozenset()

    def is_accessible(self):
        return current_user.is_authenticated and current_user.is_active and current_user.role in self.allowed_roles

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("public.login", next=request.full_path.rstrip("?")))
        abort(403)


class SecureForm(BaseForm):
    """Back-office forms, checked against the site's one CSRF token (Flask-WTF).

    Flask-Admin's own SecureForm keeps a second token of its own; next to the app-wide
    CSRFProtect, a submitted admin form would carry both and always fail one of the two checks.
    """

    def __init__(self, formdata=None, obj=None, prefix="", **kwargs):
        # Flask-Admin's uniqueness validator tells the edited record apart through `_obj`.
        self._obj = obj
        super().__init__(formdata=formdata, obj=obj, prefix=prefix, **kwargs)
        for field in self:
            # A select that may be left blank shows its "none" choice by its label, or by its value
            # `__None` when it has none.
            if getattr(field, "allow_blank", False) and not field.blank_text:
                field.blank_text = NO_CHOICE


class SecureIndexView(RoleRequired, AdminIndexView):
    pass


class SecureView(RoleRequired, BaseView):
    pass


class SecureModelView(RoleRequired, ModelView):
    """A model view with CSRF-protected forms and French-friendly defaults."""

    form_base_class = SecureForm
    page_size = 25
    # Each size has its French label in translations/fr/LC_MESSAGES/admin.po.
    page_size_options = (25, 50, 100)
    can_view_details = True
    # Values no column formatter handled: dates and times local and in words, Oui/Non (columns.py).
    column_type_formatters = TYPE_FORMATTERS
    column_type_formatters_detail = DETAIL_TYPE_FORMATTERS
    can_set_page_size = True
    # Offered wherever a view sets can_export; both files follow csv_export's rules.
    export_types = ["csv", "xlsx"]
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
        # Flask-Admin sends the browser back to the `url` value after a form; a line break in it
        # cannot go in a Location header.
        if not request.values.get("url", "").isprintable():
            abort(400)
        # Flask-Admin answers a write it does not allow with a quiet redirect; refuse it plainly.
        permission = self.write_endpoints.get(name)
        if permission is not None and not getattr(self, permission):
            abort(403)
        return None

    def get_column_name(self, field):
        if field not in (self.column_labels or {}) and field in COMMON_LABELS:
            return COMMON_LABELS[field]
        return super().get_column_name(field)

    def get_one(self, id):
        # Ids come from the URL: a malformed, unknown or out-of-range one is simply not found.
        record_id = record_id_of(id)
        if record_id is None:
            abort(404)
        record = super().get_one(str(record_id))
        if record is None:
            abort(404)
        return record

    def _get_list_extra_args(self):
        view_args = super()._get_list_extra_args()
        # A negative page would be a negative OFFSET, which PostgreSQL refuses; a huge one overflows.
        if not 0 <= view_args.page <= MAX_INTEGER:
            abort(404)
        return view_args

    def _get_list_filter_args(self):
        filters = super()._get_list_filter_args()
        if not filters:
            return filters
        kept = []
        for index, name, value in filters:
            cleaned = self._filters[index].clean(value)
            values = cleaned if isinstance(cleaned, (list, tuple)) else [cleaned]
            if any(refusal(v) for v in values):
                flash(self.get_invalid_value_msg(value, self._filters[index]), "error")
            else:
                kept.append((index, name, value))
        return kept

    def get_invalid_value_msg(self, value, filter):
        return f"Valeur de filtre invalide : « {value} »."

    @action("delete", "Supprimer", "Supprimer les lignes sélectionnées ?")
    def action_delete(self, ids):
        # Ids arrive as text, which PostgreSQL will not compare with an integer key; unusable ones match nothing.
        super().action_delete(tuple(i for i in map(record_id_of, ids) if i is not None))

    # --- list exports (csv_export.py holds the rules) ---

    def get_export_value(self, model, name):
        return csv_export.column_value(
            self._get_field_value(model, name),
            name,
            self.column_formatters_export.get(name),
            lambda: super(SecureModelView, self).get_export_value(model, name),
        )

    def get_export_name(self, export_type="csv"):
        return csv_export.filename(self.name, utcnow(), export_type)

    def _export_table(self):
        """The header and rows of the list as filtered, sorted and searched, with typed values."""
        _count, records = self._export_data()
        header = [str(label) for _name, label in self._export_columns]
        rows = [[self.get_export_value(record, name) for name, _label in self._export_columns] for record in records]
        return header, rows

    def _export_csv(self, return_url):
        return csv_export.response(self.get_export_name("csv"), *self._export_table())

    def _export_tablib(self, export_type, return_url):
        # Flask-Admin sends every listed type but CSV here, and XLSX is the only other one.
        if export_type != "xlsx":
            abort(404)
        return csv_export.xlsx_response(self.get_export_name("xlsx"), *self._export_table())

    def handle_view_exception(self, exc):
        if isinstance(exc, DomainError):
            # A rule refused the create, edit or delete (from on_model_change and the like); Flask-Admin rolls back.
            flash(exc.message, "error")
            return True
        if isinstance(exc, IntegrityError):
            # The database's last word: a row others depend on, a duplicate, a CHECK the form let through.
            flash(IN_USE, "error")
            return True
        return super().handle_view_exception(exc)


class ReadOnlyModelView(SecureModelView):
    """Lists and details only, with CSV export; any write is refused on the server."""

    can_create = False
    can_edit = False
    can_delete = False
    can_export = True
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


def perform(change, success, next_url):
    """Run a back-office form's domain change: commit, flash and redirect, or roll back and flash why not.

    `change` is called with no argument; a DomainError it raises is refused, its French message
    shown; `success` and `next_url` are text or functions of the change's result. Returns the
    redirect, or None when the change was refused and the form is to be shown again.
    """
    try:
        result = change()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return None
    db.session.commit()
    flash(success(result) if callable(success) else success, "success")
    return redirect(next_url(result) if callable(next_url) else next_url)


def form_status():
    """A form shown again after a POST was refused: 400, so that clients and tests can tell."""
    return 400 if request.method == "POST" else 200

"""The Flask-Admin back office: one Admin per application, menus filtered by role."""

from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from ..models import ORDER_STATUS_LABELS
from .overview import OverviewView


def init_admin(app):
    """Build the back office for `app` (never at import time, so tests can build many apps)."""
    admin = Admin(
        app,
        name="4AS TutorAdmin",
        index_view=OverviewView(name="Vue d'ensemble", url="/admin", endpoint="admin"),
        theme=Bootstrap4Theme(base_template="admin/tutoradmin_base.html", fluid=True),
    )
    app.jinja_env.globals["order_status_label"] = ORDER_STATUS_LABELS.get
    return admin

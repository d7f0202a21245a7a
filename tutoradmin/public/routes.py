"""Public pages: home and the health probe (the student dashboard is in student.py)."""

from flask import render_template

from . import (
    attachments,  # noqa: F401  (the download route registers itself on bp)
    messages,  # noqa: F401  (a session's conversation registers itself on bp)
    tickets,  # noqa: F401  (registers the student's support pages on bp)
)
from .blueprint import bp
from .catalog import active_courses


@bp.route("/")
def home():
    return render_template("public/home.html", courses=active_courses())


@bp.route("/sante")
def health():
    """Liveness probe for load balancers (no database access)."""
    return {"statut": "ok"}

"""Public pages: home and the student dashboard."""

from flask import abort, render_template
from flask_login import current_user, login_required

from ..models import APPOINTMENT_STATUS_LABELS, Role, utcnow
from ..reservations import student_appointments
from .blueprint import bp
from .catalog import active_courses


@bp.route("/")
def home():
    return render_template("public/home.html", courses=active_courses())


@bp.route("/sante")
def health():
    """Liveness probe for load balancers (no database access)."""
    return {"statut": "ok"}


@bp.route("/tableau-de-bord")
@login_required
def dashboard():
    """The student's space (reservations, orders and credits come with the booking work)."""
    if current_user.role != Role.STUDENT:
        abort(403)
    upcoming, past = student_appointments(current_user.id, utcnow())
    return render_template(
        "public/dashboard.html", upcoming=upcoming, past=past[:20], status_labels=APPOINTMENT_STATUS_LABELS
    )

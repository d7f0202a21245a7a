"""Public pages: home, course list, student dashboard."""

from flask import abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from ..extensions import db
from ..models import Course, Role
from . import bp


def _active_courses():
    return db.session.scalars(
        select(Course).where(Course.active.is_(True)).order_by(Course.title)
    ).all()


@bp.route("/")
def home():
    return render_template("public/home.html", courses=_active_courses())


@bp.route("/cours")
def courses():
    return render_template("public/courses.html", courses=_active_courses())


@bp.route("/tableau-de-bord")
@login_required
def dashboard():
    """The student's space (reservations, orders and credits come with the booking work)."""
    if current_user.role != Role.STUDENT:
        abort(403)
    return render_template("public/dashboard.html")

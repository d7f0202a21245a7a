"""The back-office home page (/admin/)."""

from flask_admin import expose
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import reports, support
from ..extensions import db
from ..formatting import money
from ..localtime import local_today
from ..models import BACK_OFFICE_ROLES, Coupon, Course, Order, Role, Tutor, utcnow
from .base import SecureIndexView
from .revenue import AMOUNTS, MARGIN_RATE, percent


def _count_active(model):
    return db.session.scalar(select(func.count()).select_from(model).where(model.active.is_(True)))


def _signed(cents):
    return ("+" if cents > 0 else "") + money(cents)


def _revenue_rows(last, this):
    """(label, this month, last month, difference) lines comparing two months' Figures."""
    rows = [
        (
            label,
            money(getattr(this, name)),
            money(getattr(last, name)),
            _signed(getattr(this, name) - getattr(last, name)),
        )
        for label, name in AMOUNTS
    ]
    return [*rows, (MARGIN_RATE, percent(this.margin_rate), percent(last.margin_rate), "")]


class OverviewView(SecureIndexView):
    allowed_roles = BACK_OFFICE_ROLES

    @expose("/")
    def index(self):
        if current_user.role == Role.TUTOR:
            return self.render("admin/tutor_home.html", tutor=current_user.tutor_profile)
        counts = {
            "Cours actifs": _count_active(Course),
            "Tuteurs actifs": _count_active(Tutor),
            "Coupons actifs": _count_active(Coupon),
            "Billets sans réponse": support.unanswered_count(),
        }
        (last_month, last), (this_month, this) = reports.month_over_month(local_today(utcnow()))
        recent_orders = db.session.scalars(
            select(Order).options(selectinload(Order.user)).order_by(Order.created_at.desc()).limit(10)
        ).all()
        return self.render(
            "admin/overview.html",
            counts=counts,
            recent_orders=recent_orders,
            revenue_months=(this_month.label, last_month.label),
            revenue_rows=_revenue_rows(last, this),
        )

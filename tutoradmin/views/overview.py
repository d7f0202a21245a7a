"""The back-office home page (/admin/)."""

from flask_admin import expose
from flask_login import current_user
from sqlalchemy import func, select

from ..extensions import db
from ..models import BACK_OFFICE_ROLES, Coupon, Course, Order, Role, Tutor
from .base import SecureIndexView


def _count_active(model):
    return db.session.scalar(select(func.count()).select_from(model).where(model.active.is_(True)))


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
        }
        recent_orders = db.session.scalars(
            select(Order).order_by(Order.created_at.desc()).limit(10)
        ).all()
        return self.render("admin/overview.html", counts=counts, recent_orders=recent_orders)

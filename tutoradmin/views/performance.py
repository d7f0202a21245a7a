"""Tutor performance and course activity for a chosen local month (SPEC §9, operations).

Administrators and staff only; nothing here writes. The figures and their definitions are
performance.py's.
"""

from babel.numbers import format_percent
from flask import request
from flask_admin import expose

from .. import performance
from ..formatting import LOCALE
from ..localtime import month_of
from ..models import utcnow
from ..params import ParamError, parse_month
from .base import OFFICE, SecureView
from .payouts import hours


def percent(rate):
    """75 % — from 0.75; a dash without a rate."""
    return "—" if rate is None else format_percent(rate, locale=LOCALE)


def average(value):
    """4,3 / 5 — or a dash without ratings."""
    return "—" if value is None else f"{value} / 5".replace(".", ",")


DISPLAY = {"hours": hours, "percent": percent, "average": average}


class PerformanceView(SecureView):
    """Per tutor: sessions, hours booked and offered, utilisation, marks, ratings; per course: activity, revenue."""

    allowed_roles = OFFICE

    def _month(self):
        """The month asked for (AAAA-MM, by default the current one) and an error message, if any."""
        current = month_of(utcnow())
        if not request.args.get("mois"):
            return current, None
        try:
            return parse_month(request.args["mois"]), None
        except ParamError as exc:
            return current, str(exc)

    def _render(self, tab, **context):
        month, error = self._month()
        if tab == "tuteurs":
            context["tutors"] = performance.tutor_month(month)
        else:
            context["courses"], context["total"] = performance.course_month(month)
        return self.render(
            "admin/performance.html", tab=tab, month=month, error=error, **context, **DISPLAY
        ), 400 if error else 200

    @expose("/")
    def index(self):
        return self._render("tuteurs")

    @expose("/cours")
    def courses(self):
        return self._render("cours")

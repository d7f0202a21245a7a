"""The month-end pack (SPEC §9): pick a local month, download its ZIP of CSV files.

The accountant and administrators each have their own view class and URL, sharing MonthEndPage.
Only GET routes: nothing here writes. The files and their figures are month_end.py's.
"""

from flask import Response, request
from flask_admin import expose

from .. import month_end
from ..errors import DomainError
from ..localtime import previous_month
from ..models import utcnow
from ..params import ParamError, parse_month
from . import csv_export
from .base import ACCOUNTING, ADMIN_ONLY, SecureView
from .payouts import month_options


def requested_month(args, now):
    """The month asked for in `mois` (AAAA-MM), by default last month; ParamError or DomainError in French."""
    text = args.get("mois", "").strip()
    if not text:
        return previous_month(now)
    return month_end.check_month(parse_month(text), now)


class MonthEndPage:
    """The month picker and the download of a month's pack."""

    def _page(self, month, error=None):
        now = utcnow()
        return self.render(
            "admin/month_end.html",
            month_value=f"{month:%Y-%m}" if month else "",
            month_options=month_options(month or previous_month(now), now),
            files=[(f"{stem}-AAAA-MM.csv", description) for stem, description in month_end.CONTENTS],
            error=error,
        ), (400 if error else 200)

    @expose("/")
    def index(self):
        try:
            return self._page(requested_month(request.args, utcnow()))
        except (ParamError, DomainError) as exc:
            return self._page(None, str(exc))

    @expose("/telecharger")
    def download(self):
        now = utcnow()
        try:
            pack = month_end.month_pack(requested_month(request.args, now), now)
        except (ParamError, DomainError) as exc:
            return self._page(None, str(exc))
        return Response(
            month_end.archive(pack, csv_export.text),
            mimetype="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{pack.name}"'},
        )


class AccountingMonthEndView(MonthEndPage, SecureView):
    allowed_roles = ACCOUNTING


class OfficeMonthEndView(MonthEndPage, SecureView):
    allowed_roles = ADMIN_ONLY

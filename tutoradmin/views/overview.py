"""The back-office home page (/admin/)."""

from flask import url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import func, select

from .. import flags, messaging, operations, outbox, reports, support, tutor_home
from ..extensions import db
from ..formatting import money
from ..localtime import local_today
from ..models import (
    BACK_OFFICE_ROLES,
    OUTBOX_EVENT_TYPE_LABELS,
    OUTBOX_STATUS_LABELS,
    Coupon,
    Course,
    OutboxStatus,
    Role,
    Tutor,
    utcnow,
)
from .base import OFFICE, SecureIndexView
from .orders import OrderColumns
from .outbox import OutboxEventView
from .payouts import hours
from .revenue import AMOUNTS, MARGIN_RATE, percent
from .support import TicketView, UnansweredFilter


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


def _plural(number, one, many):
    return f"{number} {one if number == 1 else many}"


def _warnings(orders_endpoint):
    """(message, link) for what needs the office: failed deliveries (office only) and flagged orders."""
    warnings = []
    if current_user.role in OFFICE:
        counts = outbox.attention_counts()
        for status, one, many in (
            (OutboxStatus.FAILED, "envoi sortant en échec", "envois sortants en échec"),
            (
                OutboxStatus.STOPPED,
                "envoi sortant refusé par le destinataire",
                "envois sortants refusés par le destinataire",
            ),
        ):
            if counts[status]:
                link = url_for("outbox.index_view", **{OutboxEventView.status_filter_arg(): status.value})
                warnings.append((_plural(counts[status], one, many), link))
    flagged = flags.flagged_orders_count()
    if flagged:
        link = url_for(f"{orders_endpoint}.index_view", **{OrderColumns.flagged_filter_arg(): "1"})
        warnings.append((_plural(flagged, "commande signalée à traiter", "commandes signalées à traiter"), link))
    return warnings


def _unanswered_filter_arg():
    """The ticket list's URL argument that keeps unanswered tickets."""
    index = next(i for i, f in enumerate(TicketView.column_filters) if isinstance(f, UnansweredFilter))
    return f"flt0_{index}"


def _office_lists():
    """What staff and administrators deal with today: sessions, tickets, deliveries, quick links."""
    return {
        "todays_sessions": operations.todays_sessions(local_today(utcnow())),
        "unanswered_tickets": operations.unanswered_tickets(),
        "unanswered_link": url_for("tickets.index_view", **{_unanswered_filter_arg(): "1"}),
        "deliveries": operations.deliveries_needing_attention(),
        "outbox_status_label": OUTBOX_STATUS_LABELS.get,
        "outbox_type_label": OUTBOX_EVENT_TYPE_LABELS.get,
        "quick_actions": [
            ("Réserver sans paiement", url_for("appointments.book")),
            ("Nouveau coupon", url_for("coupons.create_view")),
            ("Billets sans réponse", url_for("tickets.index_view", **{_unanswered_filter_arg(): "1"})),
            ("Envois sortants", url_for("outbox.index_view")),
        ],
    }


class OverviewView(SecureIndexView):
    allowed_roles = BACK_OFFICE_ROLES

    @expose("/")
    def index(self):
        if current_user.role == Role.TUTOR:
            return self._tutor_home()
        counts = {
            "Cours actifs": _count_active(Course),
            "Tuteurs actifs": _count_active(Tutor),
            "Coupons actifs": _count_active(Coupon),
            "Billets sans réponse": support.unanswered_count(),
        }
        (last_month, last), (this_month, this) = reports.month_over_month(local_today(utcnow()))
        # The accountant reads orders in their own, read-only list.
        orders_endpoint = "accounting_orders" if current_user.role == Role.ACCOUNTANT else "orders"
        office = current_user.role in OFFICE
        return self.render(
            "admin/overview.html",
            counts=counts,
            warnings=_warnings(orders_endpoint),
            disputes=flags.open_disputes(),
            orders_endpoint=orders_endpoint,
            recent_orders=operations.recent_orders(),
            flagged_orders=operations.flagged_orders(),
            flag_reasons=operations.flag_reasons,
            flagged_link=url_for(f"{orders_endpoint}.index_view", **{OrderColumns.flagged_filter_arg(): "1"}),
            flagged_items_link=url_for(
                f"{orders_endpoint}.index_view", **{OrderColumns.flagged_items_filter_arg(): "1"}
            ),
            office=office,
            **(_office_lists() if office else {}),
            revenue_months=(this_month.label, last_month.label),
            revenue_rows=_revenue_rows(last, this),
        )

    def _tutor_home(self):
        tutor = current_user.tutor_profile
        if tutor is None:
            return self.render("admin/tutor_home.html", tutor=None)
        now = utcnow()
        return self.render(
            "admin/tutor_home.html",
            tutor=tutor,
            now=now,
            home=tutor_home.home(tutor, current_user, now),
            unread_conversations=messaging.unread_conversations(current_user),
            hours=hours,
        )

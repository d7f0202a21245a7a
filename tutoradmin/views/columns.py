"""How back-office lists and details display values: money, local times, French labels."""

from datetime import UTC, date, datetime, time
from decimal import Decimal

from flask_admin.model import typefmt
from markupsafe import Markup, escape

from ..formatting import hours, local_date, local_datetime, local_time, money
from ..localtime import to_local
from ..models import PAYMENT_STATUS_LABELS, REFUND_STATUS_LABELS, CouponKind
from ..models.availability import WEEKDAY_LABELS

WEEKDAY_CHOICES = list(enumerate(WEEKDAY_LABELS))


def choices(labels):
    """(stored value, French label) pairs for a select field or a filter."""
    return [(str(value), label) for value, label in labels.items()]


def _attribute(formatter):
    """Adapt a one-value formatter to Flask-Admin's (view, context, model, name) signature."""

    def column(_view, _context, model, name):
        return formatter(getattr(model, name))

    return column


money_column = _attribute(money)
datetime_column = _attribute(local_datetime)
date_column = _attribute(local_date)
#: An instant that stands for a day (a payment date): its local date, without the time it was recorded.
paid_day_column = _attribute(lambda moment: "" if moment is None else local_date(to_local(moment).date()))
time_column = _attribute(lambda value: "" if value is None else f"{value:%H:%M}")
weekday_column = _attribute(lambda value: "" if value is None else WEEKDAY_LABELS[value])
hours_column = _attribute(hours)


def _aware(moment):
    # Stored instants are aware UTC; a naive one can only come from UTC too.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _by_type(formatter):
    """Adapt a one-value formatter to Flask-Admin's type formatter signature (view, value, name)."""
    return lambda _view, value, _name: formatter(value)


#: Values of a type no column formatter handled, in lists and on details pages: French and local,
#: never `True` or `2026-11-29 02:50:37+00:00`. A datetime is a date too, so it comes first.
TYPE_FORMATTERS = {
    **typefmt.BASE_FORMATTERS,
    bool: _by_type(lambda value: "Oui" if value else "Non"),
    datetime: _by_type(lambda value: local_datetime(_aware(value))),
    date: _by_type(local_date),
    time: _by_type(lambda value: f"{value:%H:%M}"),
}
DETAIL_TYPE_FORMATTERS = {**typefmt.DETAIL_FORMATTERS, **TYPE_FORMATTERS}

#: Field names shared by many models, labelled in French wherever a view does not label them itself.
COMMON_LABELS = {
    "id": "Numéro",
    "created_at": "Créé le",
    "updated_at": "Modifié le",
}


def label_column(labels):
    """Show a stored code by its French label."""
    return _attribute(lambda value: labels.get(value, value or ""))


def _dollars(cents):
    # CSV exports keep a plain number a spreadsheet can add up.
    return "" if cents is None else f"{Decimal(cents).scaleb(-2):.2f}"


money_export = _attribute(_dollars)


def coupon_value_column(_view, _context, coupon, _name):
    """15 % or 10,00 $, depending on the coupon's kind."""
    if coupon.kind == CouponKind.PERCENT:
        return f"{coupon.value} %"
    return money(coupon.value)


def lines(rows):
    """Texts shown one per line, escaped; a dash when there are none."""
    return Markup("<br>").join(escape(row) for row in rows) if rows else "—"


def order_items_column(_view, _context, order, _name):
    """An order's sessions, one per line, with their price and why one was flagged for the office."""
    return lines(
        [
            f"{item.course.title} — {item.tutor.display_name} — "
            f"{local_datetime(item.starts_at)} ({item.duration_minutes} min) — {money(item.price_cents)}"
            + (f" — Signalée : {item.flag_reason}" if item.flagged_at else "")
            for item in order.items
        ]
    )


def order_payments_column(_view, _context, order, _name):
    return lines(
        [
            f"{money(p.amount_cents)} — {PAYMENT_STATUS_LABELS.get(p.status, p.status)} — "
            f"{'Stripe' if p.provider == 'stripe' else 'simulé'} {p.gateway_payment_id}"
            for p in order.payments
        ]
    )


def order_refunds_column(_view, _context, order, _name):
    return lines(
        [
            f"{money(r.amount_cents)} — {REFUND_STATUS_LABELS.get(r.status, r.status)} — "
            f"{local_datetime(r.processed_at or r.created_at)}"
            for r in order.refunds
        ]
    )


def session_time_column(_view, _context, model, _name):
    """Local start and end of a session: 24 octobre 2025 à 09 h 00 – 10 h 00."""
    return f"{local_datetime(model.starts_at)} – {local_time(model.ends_at)}"

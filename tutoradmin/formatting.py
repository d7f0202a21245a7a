"""French-Canadian display of money, dates and times (Babel)."""

from decimal import Decimal

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency

from .localtime import to_local

LOCALE = "fr_CA"


def money(cents):
    """45,00 $ — from integer cents."""
    if cents is None:
        return ""
    return format_currency(Decimal(cents).scaleb(-2), "CAD", locale=LOCALE)


def local_datetime(moment):
    """24 octobre 2025 à 09 h 00 — in America/Toronto."""
    if moment is None:
        return ""
    return format_datetime(to_local(moment), "d MMMM y 'à' HH 'h' mm", locale=LOCALE)


def local_date(value):
    """24 octobre 2025."""
    if value is None:
        return ""
    return format_date(value, "d MMMM y", locale=LOCALE)


def local_time(moment):
    """09 h 30 — in America/Toronto."""
    if moment is None:
        return ""
    return format_datetime(to_local(moment), "HH 'h' mm", locale=LOCALE)


def long_date(value):
    """lundi 7 décembre 2026."""
    return format_date(value, "EEEE d MMMM y", locale=LOCALE)


def month_label(value):
    """décembre 2026."""
    return format_date(value, "MMMM y", locale=LOCALE)

"""French-Canadian display of money, dates and times (Babel).

Display only: the spaces inside « 18 h 30 », « 1,5 h » and « 45,00 $ » are non-breaking (the same
U+00A0 Babel puts before « $ » in fr_CA) so that a value never wraps across two lines, and a negative
amount takes a true minus sign (U+2212). Spreadsheets get plain numbers from views/csv_export.py instead.
"""

from decimal import Decimal

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency

from .localtime import to_local

LOCALE = "fr_CA"
NBSP = "\u00a0"
MINUS = "\u2212"
#: 09 h 30, kept on one line.
TIME_PATTERN = f"HH'{NBSP}h{NBSP}'mm"


def money(cents):
    """45,00 $ — from integer cents; −32,00 $ below zero."""
    if cents is None:
        return ""
    text = format_currency(Decimal(cents).scaleb(-2), "CAD", locale=LOCALE)
    return MINUS + text[1:] if text.startswith("-") else text


def hours(minutes):
    """4,5 h — from minutes, one decimal."""
    return f"{Decimal(minutes or 0) / 60:.1f}{NBSP}h".replace(".", ",")


def local_datetime(moment):
    """24 octobre 2025 à 09 h 00 — in America/Toronto."""
    if moment is None:
        return ""
    return format_datetime(to_local(moment), f"d MMMM y 'à' {TIME_PATTERN}", locale=LOCALE)


def local_date(value):
    """24 octobre 2025."""
    if value is None:
        return ""
    return format_date(value, "d MMMM y", locale=LOCALE)


def local_time(moment):
    """09 h 30 — in America/Toronto."""
    if moment is None:
        return ""
    return format_datetime(to_local(moment), TIME_PATTERN, locale=LOCALE)


def long_date(value):
    """lundi 7 décembre 2026."""
    return format_date(value, "EEEE d MMMM y", locale=LOCALE)


def month_label(value):
    """décembre 2026."""
    return format_date(value, "MMMM y", locale=LOCALE)

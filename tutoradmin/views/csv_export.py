"""Spreadsheet files (SPEC §9): CSV in UTF-8 with a BOM and XLSX with typed cells.

Both follow the same rules: amounts as plain decimals with a dot, instants in local time (ISO 8601 with
the offset in CSV), Oui/Non for booleans, and no text a spreadsheet would run as a formula: a CSV cell
starting like one gets a leading apostrophe, an XLSX cell is typed as text.
"""

import csv
import io
import re
import unicodedata
from datetime import date, datetime, time
from decimal import Decimal

from flask import Response
from markupsafe import Markup
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from ..localtime import to_local
from .columns import hours_column, money_column, money_export

#: Excel reads the file as UTF-8 (accents intact) only when it starts with a byte order mark.
BOM = "\ufeff"
#: A text cell starting with one of these would run as a formula in a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CENT = Decimal("0.01")
YES, NO = "Oui", "Non"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Cell formats of the typed XLSX values; Excel shows the rest as it sees fit.
XLSX_FORMATS = {Decimal: "0.00", datetime: "yyyy-mm-dd hh:mm", date: "yyyy-mm-dd", time: "hh:mm"}


def dollars(cents):
    """12345 → Decimal('123.45'): amounts a spreadsheet adds up exactly."""
    return None if cents is None else Decimal(cents).scaleb(-2).quantize(CENT)


def hours(minutes):
    """90 → Decimal('1.50')."""
    return (Decimal(minutes or 0) / 60).quantize(CENT)


def defuse(text):
    """Text as a spreadsheet shows it, never as a formula it would run: `=1+1` → `'=1+1`."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _local(moment):
    # Stored instants are aware UTC; the business reads them in its own time zone.
    return to_local(moment) if moment.tzinfo is not None else moment


def cell(value):
    """One CSV cell: numbers as plain decimals with a dot, dates in ISO, text defused of formulas."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime):
        return _local(value).isoformat(timespec="seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    return defuse(str(value))


def xlsx_cell(value):
    """One XLSX value: numbers and dates kept as such (a local wall-clock time), anything else as text."""
    if isinstance(value, bool):
        return YES if value else NO
    if value is None or isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime):
        # Excel has no time zones: the local wall-clock time is what the office reads everywhere else.
        return _local(value).replace(tzinfo=None)
    if isinstance(value, date | time):
        return value
    # openpyxl refuses control characters a text cell cannot hold; an empty text is an empty cell.
    return ILLEGAL_CHARACTERS_RE.sub("", str(value)) or None


def text(header, rows):
    """The CSV text (BOM first) of a header and rows of values."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(value) for value in header])
    writer.writerows([cell(value) for value in row] for row in rows)
    return out.getvalue()


def workbook(header, rows):
    """The XLSX bytes of a header and rows of values, one sheet."""
    book = Workbook()
    sheet = book.active
    for row in [header, *rows]:
        sheet.append([xlsx_cell(value) for value in row])
        for target in sheet[sheet.max_row]:
            if isinstance(target.value, str):
                # A text cell, never a formula: the text stays exactly as typed (a phone number "+1 514…").
                target.data_type = "s"
            elif (number_format := XLSX_FORMATS.get(type(target.value))) is not None:
                target.number_format = number_format
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _download(body, mimetype, filename):
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def response(filename, header, rows):
    """A CSV download named `filename`."""
    return _download(text(header, rows), "text/csv", filename)


def xlsx_response(filename, header, rows):
    """An XLSX download named `filename`."""
    return _download(workbook(header, rows), XLSX_MIMETYPE, filename)


def filename(title, now, extension):
    """« Commandes », now, "csv" → commandes-2026-11-29-1456.csv (the local date and time)."""
    ascii_title = unicodedata.normalize("NFKD", str(title)).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-") or "export"
    return f"{stem}-{to_local(now):%Y-%m-%d-%H%M}.{extension}"


# --- Flask-Admin list exports ---------------------------------------------------------------------

#: Display formatters whose column holds a number, and the number to export instead of their text.
NUMBER_COLUMNS = {money_column: dollars, money_export: dollars, hours_column: hours}


def column_value(raw, name, formatter, formatted):
    """What a list export writes for one column: the typed value when there is one, else the shown text.

    `raw` is the model's attribute, `formatter` the column's export formatter (or None) and `formatted`
    a function returning Flask-Admin's formatted value, used for labels, relations and the like.
    """
    if raw is not None:
        number = NUMBER_COLUMNS.get(formatter)
        if number is not None:
            return number(raw)
        if isinstance(raw, int) and not isinstance(raw, bool) and name.endswith("_cents"):
            # Amounts are integer cents by the models' convention.
            return dollars(raw)
        if isinstance(raw, bool | date | time | Decimal | float):
            return raw
        if isinstance(raw, int) and formatter is None:
            return raw
    value = formatted()
    if isinstance(value, Markup):
        value = value.striptags()
    return "" if value is None else str(value)

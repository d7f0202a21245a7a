"""CSV files for spreadsheets (SPEC §9): UTF-8 with a BOM, ISO dates, plain decimals, formula-safe text."""

import csv
import io
from datetime import date, datetime
from decimal import Decimal

from flask import Response

#: Excel reads the file as UTF-8 (accents intact) only when it starts with a byte order mark.
BOM = "\ufeff"
#: A text cell starting with one of these would run as a formula in a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CENT = Decimal("0.01")


def cell(value):
    """One cell: numbers as plain decimals with a dot, dates in ISO, text defused of formulas."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def dollars(cents):
    """12345 → Decimal('123.45'): amounts a spreadsheet adds up exactly."""
    return None if cents is None else Decimal(cents).scaleb(-2).quantize(CENT)


def hours(minutes):
    """90 → Decimal('1.50')."""
    return (Decimal(minutes or 0) / 60).quantize(CENT)


def text(header, rows):
    """The CSV text (BOM first) of a header and rows of values."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(value) for value in header])
    writer.writerows([cell(value) for value in row] for row in rows)
    return out.getvalue()


def response(filename, header, rows):
    """A CSV download named `filename`."""
    return Response(
        text(header, rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

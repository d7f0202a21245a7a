"""Values as shown: amounts, hours and times that never wrap, a true minus sign; spreadsheets keep plain numbers."""

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tutoradmin.formatting import hours, local_date, local_datetime, local_time, long_date, money, month_label
from tutoradmin.views import csv_export

NBSP, MINUS = "\u00a0", "\u2212"
BOOKING_JS = Path(__file__).resolve().parent.parent / "static" / "js" / "booking.js"


@pytest.mark.parametrize(
    ("cents", "shown"),
    [
        (4500, f"45,00{NBSP}$"),
        (0, f"0,00{NBSP}$"),
        (-3200, f"{MINUS}32,00{NBSP}$"),
        (-5, f"{MINUS}0,05{NBSP}$"),
        (123456789, f"1{NBSP}234{NBSP}567,89{NBSP}$"),
        (None, ""),
    ],
)
def test_an_amount_keeps_its_dollar_sign_on_its_line_and_a_true_minus_sign(cents, shown):
    assert money(cents) == shown


def test_no_displayed_amount_uses_a_hyphen_for_minus():
    assert "-" not in money(-1) and money(-1).startswith(MINUS)


def test_times_and_hours_never_wrap_inside():
    # 22:30 UTC on March 1st is 17:30 in Toronto (EST).
    moment = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)
    assert local_time(moment) == f"17{NBSP}h{NBSP}30"
    assert local_datetime(moment) == f"1 mars 2026 à 17{NBSP}h{NBSP}30"
    assert hours(90) == f"1,5{NBSP}h" and hours(None) == f"0,0{NBSP}h"
    assert " h " not in local_datetime(moment) + local_time(moment) + hours(150)


def test_dates_and_months_in_words():
    assert local_date(date(2026, 4, 5)) == "5 avril 2026"
    assert long_date(date(2026, 12, 7)) == "lundi 7 décembre 2026"
    assert month_label(date(2026, 10, 1)) == "octobre 2026"
    assert (local_date(None), local_datetime(None), local_time(None)) == ("", "", "")


def test_spreadsheets_keep_a_plain_minus_and_a_dot():
    assert csv_export.cell(csv_export.dollars(-3200)) == "-32.00"
    assert csv_export.cell(csv_export.hours(90)) == "1.50"
    assert csv_export.text(["Montant"], [[csv_export.dollars(-3200)]]) == "\ufeffMontant\r\n-32.00\r\n"


def test_the_booking_button_counts_seances_not_sessions():
    script = BOOKING_JS.read_text(encoding="utf-8")
    assert '" séances)" : " séance)"' in script
    # Student-facing texts (quoted strings) say « séance »; comments may say what they like.
    quoted = re.findall(r'"([^"\n]*)"', script)
    assert [text for text in quoted if re.search(r"\bsessions?\b", text, re.IGNORECASE)] == []

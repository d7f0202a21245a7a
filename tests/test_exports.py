"""Back-office exports a spreadsheet opens correctly: BOM, ISO dates, plain decimals, Oui/Non, no formulas."""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from tutoradmin.localtime import to_local
from tutoradmin.models import TutorPayout, utcnow
from tutoradmin.views import csv_export

# Names a spreadsheet would run as formulas, and what the export must write instead.
INJECTIONS = {
    '=HYPERLINK("http://mal.example","clic")': '\'=HYPERLINK("http://mal.example","clic")',
    "+1": "'+1",
    "-2": "'-2",
    "@x": "'@x",
}


def _csv(response, stem):
    """The rows of a CSV download, after checking its type, its BOM and its local-time file name."""
    assert response.status_code == 200 and response.mimetype == "text/csv"
    _check_filename(response, stem, "csv")
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8")[1:])))


def _check_filename(response, stem, extension):
    name = re.fullmatch(r'attachment; filename="(.+)"', response.headers["Content-Disposition"]).group(1)
    # The local date and time of the download (give the clock a minute's slack).
    expected = {csv_export.filename(stem, utcnow() - timedelta(minutes=m), extension) for m in (0, 1)}
    assert name in expected


def _local_iso(moment):
    return to_local(moment).isoformat(timespec="seconds")


def test_cells_follow_the_spreadsheet_rules():
    instant = datetime(2026, 11, 29, 19, 56, 7, tzinfo=UTC)
    assert [csv_export.cell(v) for v in (True, False, None, Decimal("-80.00"), -3, instant, date(2026, 11, 29))] == [
        "Oui",
        "Non",
        "",
        "-80.00",
        "-3",
        "2026-11-29T14:56:07-05:00",
        "2026-11-29",
    ]
    assert [csv_export.cell(text) for text in [*INJECTIONS, "\tx", "\rx", "Élève"]] == [
        *INJECTIONS.values(),
        "'\tx",
        "'\rx",
        "Élève",
    ]
    assert csv_export.dollars(8000) == Decimal("80.00") and csv_export.cell(csv_export.dollars(-8000)) == "-80.00"
    assert csv_export.filename("Étudiants", instant, "csv") == "etudiants-2026-11-29-1456.csv"
    assert (
        csv_export.filename("Journal d'audit", instant.replace(month=7), "xlsx")
        == "journal-d-audit-2026-07-29-1556.xlsx"
    )


@pytest.fixture
def injected_students(make, db):
    """(student, order) pairs, one per formula-like text: in the name, the phone and the order's billing e-mail."""
    pairs = []
    for n, text in enumerate(INJECTIONS):
        student = make.user(first_name=text, last_name=text, phone=text, email=f"eleve{n}@example.com")
        pairs.append((student, make.order(user=student, billing_email=text, course=make.course(rate_cents=4550 + n))))
    db.session.commit()
    return pairs


def test_the_students_export_defuses_formulas_and_writes_iso_dates(client, login_as, injected_students):
    login_as("staff")

    rows = {row["Adresse courriel"]: row for row in _csv(client.get("/admin/etudiants/export/csv/"), "Étudiants")}

    for (student, _order), (text, defused) in zip(injected_students, INJECTIONS.items(), strict=True):
        row = rows[student.email]
        assert (row["Prénom"], row["Nom"], row["Téléphone"]) == (defused, defused, defused), text
        assert row["Créé le"] == _local_iso(student.created_at)
        assert row["Statut"] == "Actif"


def test_the_orders_export_defuses_formulas_and_its_amounts_add_up(client, login_as, injected_students):
    login_as("staff")

    rows = _csv(client.get("/admin/commandes/export/csv/"), "Commandes")

    assert sorted(row["Adresse courriel"] for row in rows) == sorted(INJECTIONS.values())
    # 45,50 $ + 45,51 $ + 45,52 $ + 45,53 $, each written as a plain decimal with a dot.
    assert sum(Decimal(row["Payé par carte"]) for row in rows) == Decimal("182.06")
    assert {row["Payé par carte"] for row in rows} == {"45.50", "45.51", "45.52", "45.53"}
    orders = {order.id: order for _student, order in injected_students}
    for row in rows:
        order = orders[int(row["Numéro"])]
        assert row["Payée le"] == _local_iso(order.paid_at)
        assert datetime.fromisoformat(row["Payée le"]) == order.paid_at.replace(microsecond=0)


def test_a_negative_adjustment_stays_a_number_and_booleans_read_oui_non(client, make, db, login_as):
    login_as("accountant")
    tutor = make.tutor(display_name="-Tuteur")
    db.session.add(
        TutorPayout(
            tutor=tutor,
            year=2026,
            month=10,
            minutes=90,
            earnings_cents=5000,
            adjustments_cents=-1250,
            amount_cents=3750,
        )
    )
    make.coupon(code="ACTIF", active=True)
    make.coupon(code="ARCHIVE", active=False)
    db.session.commit()

    (payout,) = _csv(client.get("/admin/compta/paiements-tuteurs/export/csv/"), "Paiements aux tuteurs")
    coupons = {row["Code"]: row for row in _csv(client.get("/admin/compta/coupons/export/csv/"), "Coupons")}

    assert (payout["Heures"], payout["Gains"], payout["Ajustements"], payout["À payer"]) == (
        "1.50",
        "50.00",
        "-12.50",
        "37.50",
    )
    assert (coupons["ACTIF"]["Actif"], coupons["ARCHIVE"]["Actif"]) == ("Oui", "Non")


def test_the_xlsx_export_has_typed_cells(client, login_as, injected_students):
    login_as("staff")

    response = client.get("/admin/commandes/export/xlsx/")

    assert response.status_code == 200 and response.mimetype == csv_export.XLSX_MIMETYPE
    _check_filename(response, "Commandes", "xlsx")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    header, *rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    column = {label: index for index, label in enumerate(header)}
    # Text cells, never formulas, with the text as typed.
    emails = [row[column["Adresse courriel"]] for row in sheet.iter_rows(min_row=2)]
    assert {cell.data_type for cell in emails} == {"s"} and sorted(cell.value for cell in emails) == sorted(INJECTIONS)
    amounts = [row[column["Payé par carte"]] for row in rows]
    assert all(isinstance(amount, float) for amount in amounts) and round(sum(amounts), 2) == 182.06
    paid = {row[column["Numéro"]]: row[column["Payée le"]] for row in rows}
    orders = {order.id: order for _student, order in injected_students}
    assert paid.keys() == orders.keys() and all(isinstance(value, datetime) for value in paid.values())
    assert all(
        abs(value - to_local(orders[number].paid_at).replace(tzinfo=None)) < timedelta(seconds=1)
        for number, value in paid.items()
    )


def test_an_export_type_not_offered_is_refused(client, login_as):
    login_as("staff")

    response = client.get("/admin/commandes/export/pdf/")

    assert response.status_code == 302 and response.mimetype != "application/pdf"


def _exportable_views(app):
    """(list URL, a role allowed to read it) of every back-office list offering an export."""
    views = [view for admin in app.extensions["admin"] for view in admin._views]
    return sorted(
        (view.url + "/", sorted(str(role) for role in view.allowed_roles)[0])
        for view in views
        if getattr(view, "can_export", False)
    )


def test_every_list_export_is_a_spreadsheet_in_both_formats(app, client, make, db, login_as, injected_students):
    tutor = make.tutor()
    db.session.add(TutorPayout(tutor=tutor, year=2026, month=10, minutes=60, earnings_cents=2500, amount_cents=2500))
    make.coupon(code="RENTREE")
    db.session.commit()
    exportable = _exportable_views(app)
    assert {"/admin/commandes/", "/admin/compta/commandes/", "/admin/compta/paiements-tuteurs/"} <= {
        url for url, _role in exportable
    }

    failures = {}
    for url, role in exportable:
        login_as(role)
        as_csv, as_xlsx = client.get(f"{url}export/csv/"), client.get(f"{url}export/xlsx/")
        if as_csv.status_code != 200 or not as_csv.get_data().startswith("\ufeff".encode()):
            failures[url] = ("csv", as_csv.status_code)
        elif as_xlsx.status_code != 200 or load_workbook(io.BytesIO(as_xlsx.get_data())).active.max_row < 1:
            failures[url] = ("xlsx", as_xlsx.status_code)
    assert failures == {}

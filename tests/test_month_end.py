"""The month-end pack: each file's rows and totals, equal to the revenue and payout pages; the ZIP; access."""

import csv
import io
import uuid
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tutoradmin import attendance, credits, month_end, payouts, refunds, reports, statements
from tutoradmin.errors import DomainError
from tutoradmin.formatting import month_label
from tutoradmin.localtime import LOCAL_TZ, previous_month
from tutoradmin.models import CouponRedemption, CreditKind, Role, utcnow
from tutoradmin.payments import RefundResult

from .query_counts import count_queries

OCTOBER = date(2025, 10, 1)
# Mid-November 2025: October is over (and paid for the first tutor); DST ended on November 2.
NOW = datetime(2025, 11, 20, 15, 0, tzinfo=UTC)
FILES = [
    "paiements-2025-10.csv",
    "remboursements-2025-10.csv",
    "credits-2025-10.csv",
    "coupons-2025-10.csv",
    "tuteurs-2025-10.csv",
    "revenus-par-cours-2025-10.csv",
    "sommaire-2025-10.csv",
]


def local(*args):
    return datetime(*args, tzinfo=LOCAL_TZ).astimezone(UTC)


class Gateway:
    """A gateway that accepts every refund."""

    name = "simulated"

    def __init__(self):
        self.calls = 0

    def refund(self, payment_id, amount_cents, idempotency_key):
        self.calls += 1
        return RefundResult(f"re_fin_de_mois_{uuid.uuid4().hex[:8]}", "succeeded")


def _sell(db, make, student, course, tutor, starts, paid_at, items=1, receipt=None, **money):
    """A paid order as checkout leaves it, paid (and its card payment dated) at `paid_at`."""
    order = make.booked_order(items=items, user=student, course=course, tutor=tutor, first_start=starts, **money)
    order.paid_at = paid_at
    order.receipt_number = receipt
    for payment in order.payments:
        payment.succeeded_at = paid_at
    db.session.flush()
    return order


def _complete(order):
    for item in order.items:
        item.appointment.status = "completed"
        item.appointment.completed_at = item.appointment.ends_at
        item.appointment.attendance = "present"
        item.appointment.tutor_share_percent = 100
        item.appointment.student_credit_percent = 0
        item.appointment.attendance_marked_at = item.appointment.ends_at


@pytest.fixture
def october(db, make):
    """October 2025 (local) and its edges: sales, refunds, credits, a coupon, two tutors, a paid month."""
    admin = make.user(role=Role.ADMIN)
    gateway = Gateway()
    calcul = make.course(title="Calcul I", rate_cents=4500)
    francais = make.course(title="Français", rate_cents=4000)
    alice = make.tutor(display_name="Alice Tremblay", hourly_rate_cents=2500, courses=[calcul])
    bruno = make.tutor(display_name="Bruno Gagnon", hourly_rate_cents=3000, courses=[francais])
    emile = make.user(first_name="Émile", last_name="Bouchard")
    zoe = make.user(first_name="Zoé", last_name="Roy")
    # A name a spreadsheet would run as a formula.
    formula = make.user(first_name="=1+1", last_name="Max")
    later = make.user(first_name="Léa", last_name="Côté")

    # Credit before the month: Zoé 15,00 $, Max 7,00 $ (untouched in October).
    credits.add_entry(zoe.id, CreditKind.CREDIT, 1500, "Annulation", local(2025, 9, 20, 10))
    credits.add_entry(formula.id, CreditKind.CREDIT, 700, "Geste commercial", local(2025, 8, 1, 10))

    # 23:30 on September 30 in Toronto is October 1 in UTC: a September payment. Alice's September.
    september = _sell(
        db, make, emile, calcul, alice, local(2025, 9, 15, 10), local(2025, 9, 30, 23, 30), 2, "2025-00001"
    )
    _complete(september)
    payouts.mark_paid(alice, 2025, 9, "VIR-09", date(2025, 10, 3), admin, local(2025, 10, 3, 9))

    # October's sales.
    coupon = make.coupon(code="RENTREE10", kind="percent", value=10)
    with_coupon = _sell(
        db,
        make,
        zoe,
        calcul,
        alice,
        local(2025, 10, 6, 14),
        local(2025, 10, 2, 12),
        receipt="2025-00002",
        discount_cents=450,
        coupon=coupon,
    )
    db.session.add(CouponRedemption(coupon=coupon, order_id=with_coupon.id, user_id=zoe.id, discount_cents=450))
    credits.add_entry(zoe.id, CreditKind.DEBIT, 1000, "Commande", local(2025, 10, 9, 11))
    with_credit = _sell(
        db,
        make,
        zoe,
        francais,
        bruno,
        local(2025, 10, 20, 15),
        local(2025, 10, 9, 11),
        2,
        "2025-00003",
        credit_cents=1000,
    )
    refunded_later = _sell(
        db, make, emile, calcul, alice, local(2025, 10, 27, 10), local(2025, 10, 12, 9), receipt="2025-00004"
    )
    # 23:30 on October 31 in Toronto is November 1 in UTC: an October payment.
    last_minute = _sell(
        db, make, formula, francais, bruno, local(2025, 11, 10, 16), local(2025, 10, 31, 23, 30), receipt="2025-00005"
    )
    _complete(with_coupon)
    _complete(refunded_later)

    # Bruno's sessions: a no-show (paid 100 %) and a late cancellation (paid 50 %, Zoé gets 50 % back as credit).
    no_show, late = (item.appointment for item in with_credit.items)
    attendance.mark(no_show, admin, "no_show", "", local(2025, 10, 20, 18))
    attendance.mark(late, admin, "late_cancel", "", local(2025, 10, 21, 18))
    credits.add_entry(emile.id, CreditKind.CREDIT, 500, "Geste commercial", local(2025, 10, 25, 10))

    # A partial refund in October of a September session Alice was already paid for: an adjustment.
    refunds.refund_order(
        september,
        4500,
        [september.items[1].id],
        "Séance non donnée",
        admin,
        local(2025, 10, 20, 10),
        gateway,
        uuid.uuid4().hex,
    )
    # A refund in November: not October's.
    refunds.refund_order(
        refunded_later, 2000, [], "Geste commercial", admin, local(2025, 11, 3, 10), gateway, uuid.uuid4().hex
    )
    credits.add_entry(later.id, CreditKind.CREDIT, 900, "Annulation", local(2025, 11, 5, 10))
    # Alice's October is paid, the September adjustment deducted; Bruno's waits.
    payouts.mark_paid(alice, 2025, 10, "VIR-10", date(2025, 11, 5), admin, local(2025, 11, 5, 9))
    db.session.commit()
    return {
        "alice": alice,
        "bruno": bruno,
        "orders": [september, with_coupon, with_credit, refunded_later, last_minute],
        "students": {"emile": emile, "zoe": zoe, "formula": formula},
    }


def _rows(csv_file):
    return [csv_file.header, *csv_file.rows]


def _totals(csv_file):
    return {total.label: total.value for total in csv_file.totals}


def _by_name(pack):
    return {csv_file.name: csv_file for csv_file in pack.files}


def test_payments_are_the_months_succeeded_card_payments_in_toronto_time(db, october):
    payments = month_end.payments_file(OCTOBER)
    with_coupon, with_credit, refunded_later, last_minute = october["orders"][1:]
    assert [(row[0], row[2], row[3], row[4], row[8]) for row in payments.rows] == [
        (local(2025, 10, 2, 12), with_coupon.id, "2025-00002", "Zoé Roy", Decimal("40.50")),
        (local(2025, 10, 9, 11), with_credit.id, "2025-00003", "Zoé Roy", Decimal("70.00")),
        (local(2025, 10, 12, 9), refunded_later.id, "2025-00004", "Émile Bouchard", Decimal("45.00")),
        (local(2025, 10, 31, 23, 30), last_minute.id, "2025-00005", "=1+1 Max", Decimal("40.00")),
    ]
    assert _totals(payments) == {"Paiements": 4, "Encaissé": 19550}


def test_refunds_are_the_months_succeeded_refunds_by_refund_date(db, october):
    september = october["orders"][0]
    found = month_end.refunds_file(OCTOBER)
    assert [(row[0], row[2], row[4], row[6], row[8]) for row in found.rows] == [
        (local(2025, 10, 20, 10), september.id, "Émile Bouchard", "Séance non donnée", Decimal("45.00"))
    ]
    assert _totals(found) == {"Remboursements": 1, "Remboursé": 4500}


def test_credits_show_each_students_balance_issued_used_and_the_liability_at_month_end(db, october):
    found = month_end.credits_file(OCTOBER)
    students = october["students"]
    assert [row[:2] + row[3:] for row in found.rows] == [
        [students["emile"].id, "Émile Bouchard", Decimal("0.00"), Decimal("5.00"), Decimal("0.00"), Decimal("5.00")],
        [students["formula"].id, "=1+1 Max", Decimal("7.00"), Decimal("0.00"), Decimal("0.00"), Decimal("7.00")],
        [students["zoe"].id, "Zoé Roy", Decimal("15.00"), Decimal("20.00"), Decimal("10.00"), Decimal("25.00")],
    ]
    assert _totals(found) == {
        "Étudiants": 3,
        "Solde au début": 2200,
        "Crédits émis": 2500,
        "Crédits utilisés": 1000,
        "Solde à la fin (passif)": 3700,
    }
    # The liability at month end is the ledger's balances as they stood then (nothing moved since but Léa's).
    assert sum(credits.balance_cents(s.id) for s in students.values()) == 3700


def test_coupon_discounts_list_the_months_orders_with_a_coupon(db, october):
    found = month_end.coupons_file(OCTOBER)
    assert [(row[1], row[4], row[5], row[6], row[7]) for row in found.rows] == [
        (october["orders"][1].id, "RENTREE10", Decimal("45.00"), Decimal("4.50"), Decimal("40.50"))
    ]
    assert _totals(found) == {"Commandes avec coupon": 1, "Rabais accordés": 450}


def test_tutor_lines_match_each_tutors_statement(db, october):
    found = month_end.tutors_file(OCTOBER, NOW)
    alice, bruno = october["alice"], october["bruno"]
    assert found.rows == [
        [
            alice.id,
            "Alice Tremblay",
            120,
            Decimal("2.00"),
            Decimal("50.00"),
            Decimal("-25.00"),
            Decimal("25.00"),
            "Payé",
            True,
            local(2025, 11, 5, 9),
            "VIR-10",
        ],
        [
            bruno.id,
            "Bruno Gagnon",
            120,
            Decimal("2.00"),
            Decimal("45.00"),
            Decimal("0.00"),
            Decimal("45.00"),
            "À payer",
            False,
            None,
            None,
        ],
    ]
    pages = [statements.statement(tutor, 2025, 10, NOW) for tutor in (alice, bruno)]
    assert _totals(found) == {
        "Tuteurs": 2,
        "Minutes": sum(s.minutes for s in pages),
        "Gains des tuteurs": sum(s.earnings_cents for s in pages),
        "Ajustements": sum(s.adjustments_cents for s in pages),
        "Montant payé ou à payer": sum(s.amount_cents for s in pages),
    }
    assert [s.amount_cents for s in pages] == [2500, 4500]


def test_an_unpaid_month_deducts_the_pending_adjustments_as_its_statement_does(db, make, october):
    # A late refund of Alice's paid October session: pending, shown on her November statement.
    refunds.refund_order(
        october["orders"][1],
        1000,
        [october["orders"][1].items[0].id],
        "Erreur",
        make.user(role=Role.ADMIN),
        local(2025, 11, 6, 10),
        Gateway(),
        uuid.uuid4().hex,
    )
    alice = october["alice"]
    make.appointment(tutor=alice, starts_at=local(2025, 11, 4, 9), status="completed")
    db.session.commit()
    line = {line.tutor.id: line for line in month_end.tutor_lines(date(2025, 11, 1), NOW)}[alice.id]
    page = statements.statement(alice, 2025, 11, NOW)
    assert (line.earnings_cents, line.adjustments_cents, line.status) == (2500, -2500, "Mois en cours")
    assert (page.earnings_cents, page.adjustments_cents) == (line.earnings_cents, line.adjustments_cents)


def test_revenue_by_course_and_every_total_match_the_revenue_page(db, october):
    pack = month_end.month_pack(OCTOBER, NOW)
    files = _by_name(pack)
    report = reports.revenue_report(OCTOBER, date(2025, 10, 31))
    ((_period, month_row),) = report.months
    revenue = files["revenus-par-cours-2025-10.csv"]
    assert revenue.rows == [
        [
            "Français",
            Decimal("110.00"),
            Decimal("0.00"),
            Decimal("110.00"),
            Decimal("45.00"),
            Decimal("65.00"),
            Decimal("59.09"),
        ],
        [
            "Calcul I",
            Decimal("85.50"),
            Decimal("45.00"),
            Decimal("40.50"),
            Decimal("50.00"),
            Decimal("-9.50"),
            Decimal("-23.46"),
        ],
    ]
    assert _totals(revenue) == {
        "Encaissé": month_row.collected_cents,
        "Remboursé": month_row.refunded_cents,
        "Net": month_row.net_cents,
        "Coût des tuteurs": month_row.tutor_cost_cents,
        "Marge": month_row.margin_cents,
    }
    assert (month_row.collected_cents, month_row.refunded_cents, month_row.tutor_cost_cents) == (19550, 4500, 9500)
    assert _totals(files["paiements-2025-10.csv"])["Encaissé"] == month_row.collected_cents
    assert _totals(files["remboursements-2025-10.csv"])["Remboursé"] == month_row.refunded_cents
    # No correction after payment this month: what the statements pay is revenue's tutor cost.
    assert _totals(files["tuteurs-2025-10.csv"])["Gains des tuteurs"] == month_row.tutor_cost_cents


def test_the_summary_gives_the_month_the_generation_time_and_each_files_totals(db, october):
    summary = month_end.month_pack(OCTOBER, NOW).summary()
    assert summary.rows[:2] == [["", "Mois", "2025-10"], ["", "Généré le", NOW]]
    lines = {(name, label): value for name, label, value in summary.rows[2:]}
    assert lines[("paiements-2025-10.csv", "Encaissé")] == Decimal("195.50")
    assert lines[("paiements-2025-10.csv", "Paiements")] == 4
    assert lines[("credits-2025-10.csv", "Solde à la fin (passif)")] == Decimal("37.00")
    assert lines[("tuteurs-2025-10.csv", "Ajustements")] == Decimal("-25.00")
    assert lines[("revenus-par-cours-2025-10.csv", "Marge")] == Decimal("55.50")
    assert {name for name, _label in lines} == set(FILES[:-1])


@pytest.mark.parametrize(
    "month, message",
    [
        (date(2025, 12, 1), "pas encore commencé"),
        (date(1999, 12, 1), "Mois invalide"),
    ],
)
def test_a_month_not_begun_or_outside_the_books_is_refused(db, month, message):
    with pytest.raises(DomainError, match=message):
        month_end.month_pack(month, NOW)


# --- the download ------------------------------------------------------------------------


def _zip(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.data))


def _csv(bundle, name):
    text = bundle.read(name).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_accountant_downloads_the_zip_with_exactly_the_expected_files(client, db, login_as, october):
    login_as("accountant")
    response = client.get("/admin/compta/fin-de-mois/telecharger?mois=2025-10")
    bundle = _zip(response)
    assert response.headers["Content-Disposition"] == 'attachment; filename="4as-fin-de-mois-2025-10.zip"'
    assert sorted(bundle.namelist()) == sorted(FILES)
    payments = _csv(bundle, "paiements-2025-10.csv")
    assert payments[0][:5] == ["Date", "Paiement", "Commande", "Reçu", "Étudiant"] and payments[0][-1] == "Montant"
    # ISO dates with the Toronto offset, dot decimals, formulas neutralised.
    assert payments[4][0] == "2025-10-31T23:30:00-04:00" and payments[4][8] == "40.00"
    assert payments[4][4] == "'=1+1 Max"
    assert _csv(bundle, "credits-2025-10.csv")[2][1:4] == ["'=1+1 Max", payments[4][5], "7.00"]
    tutors = _csv(bundle, "tuteurs-2025-10.csv")
    assert tutors[1][5:] == ["-25.00", "25.00", "Payé", "Oui", "2025-11-05T09:00:00-05:00", "VIR-10"]
    assert tutors[2][7:9] == ["À payer", "Non"]


def test_an_administrator_downloads_the_same_pack(client, db, login_as, october):
    login_as("admin")
    office = _zip(client.get("/admin/fin-de-mois/telecharger?mois=2025-10"))
    assert sorted(office.namelist()) == sorted(FILES)
    assert _csv(office, "revenus-par-cours-2025-10.csv")[1][:2] == ["Français", "110.00"]


def test_the_page_defaults_to_last_month_and_describes_the_files(client, db, login_as):
    login_as("accountant")
    html = client.get("/admin/compta/fin-de-mois/").get_data(as_text=True)
    assert "Fin de mois" in html and "credits-AAAA-MM.csv" in html
    assert 'action="/admin/compta/fin-de-mois/telecharger"' in html
    assert 'name="mois"' in html
    # Months by name, last month chosen: never the browser's own (English) month input.
    last_month = previous_month(utcnow())
    assert f'<option value="{last_month:%Y-%m}" selected>{month_label(last_month)}</option>' in html
    assert 'type="month"' not in html


@pytest.mark.parametrize(
    "month, message",
    [
        ("2025-13", "Mois invalide"),
        ("octobre", "Mois invalide"),
        ("2999-01", "Mois invalide"),
        ("2100-12", "pas encore commencé"),
    ],
)
def test_a_bad_or_future_month_gets_a_french_error_not_a_zip(client, db, login_as, month, message):
    login_as("accountant")
    for url in ("/admin/compta/fin-de-mois/telecharger", "/admin/compta/fin-de-mois/"):
        response = client.get(url, query_string={"mois": month})
        assert response.status_code == 400
        assert response.mimetype == "text/html"
        assert message in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "role, status",
    [("anonymous", 302), ("student", 403), ("tutor", 403), ("staff", 403), ("accountant", 200), ("admin", 403)],
)
def test_only_the_accountant_opens_the_accounting_pack(client, login_as, role, status):
    if role != "anonymous":
        login_as(role)
    assert client.get("/admin/compta/fin-de-mois/telecharger?mois=2025-10").status_code == status


@pytest.mark.parametrize(
    "role, status",
    [("anonymous", 302), ("student", 403), ("tutor", 403), ("staff", 403), ("accountant", 403), ("admin", 200)],
)
def test_only_administrators_open_the_office_pack(client, login_as, role, status):
    if role != "anonymous":
        login_as(role)
    assert client.get("/admin/fin-de-mois/telecharger?mois=2025-10").status_code == status


def _more_sales(db, make, count):
    """`count` more paid, taught, couponed, partly refunded and credited October sessions, each with its own tutor."""
    admin = make.user(role=Role.ADMIN)
    coupon = make.coupon()
    for i in range(count):
        course = make.course()
        tutor = make.tutor(courses=[course])
        student = make.user()
        order = _sell(
            db,
            make,
            student,
            course,
            tutor,
            local(2025, 10, 3 + i, 9),
            local(2025, 10, 2, 9),
            1,
            discount_cents=100,
            coupon=coupon,
        )
        db.session.add(CouponRedemption(coupon=coupon, order_id=order.id, user_id=student.id, discount_cents=100))
        _complete(order)
        refunds.refund_order(order, 500, [], "Geste", admin, local(2025, 10, 10, 9), Gateway(), uuid.uuid4().hex)
        credits.add_entry(student.id, CreditKind.CREDIT, 300, "Geste", local(2025, 10, 11, 9))
    db.session.commit()


@pytest.mark.parametrize("more", [0, 6])
def test_the_download_runs_the_same_statements_whatever_the_month_holds(client, db, make, login_as, october, more):
    login_as("accountant")
    client.get("/admin/compta/fin-de-mois/")
    _more_sales(db, make, more)
    db.session.expire_all()
    with count_queries(db) as statements_run:
        bundle = _zip(client.get("/admin/compta/fin-de-mois/telecharger?mois=2025-10"))
    assert len(_csv(bundle, "paiements-2025-10.csv")) == 1 + 4 + more
    assert len(_csv(bundle, "tuteurs-2025-10.csv")) == 1 + 2 + more
    # The signed-in user, then one statement per file (three for the tutors' statements, one more for their
    # adjustments), and the revenue report with its planner settings on PostgreSQL.
    expected = 1 + 4 + 4 + 1 + (1 if db.engine.dialect.name == "postgresql" else 0)
    assert len(statements_run) == expected, statements_run


@pytest.mark.parametrize("junk", ["2025-00", "0000-01", "-001-01", "2025-1", "9" * 40, "2025-10-01", " ", "2025-1\x00"])
def test_junk_months_never_fail(client, login_as, junk):
    login_as("accountant")
    for url in ("/admin/compta/fin-de-mois/", "/admin/compta/fin-de-mois/telecharger"):
        assert client.get(url, query_string={"mois": junk}).status_code in (200, 400)

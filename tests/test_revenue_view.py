"""The revenue page, its CSV exports and the overview's figures, through HTTP."""

import csv
import io
import re
from datetime import date, time, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import plotly.graph_objects as go
import pytest
from sqlalchemy import func, select

from tutoradmin import attendance, reports
from tutoradmin.extensions import db as _db
from tutoradmin.formatting import money
from tutoradmin.localtime import local_instant, local_today
from tutoradmin.models import Ticket, TicketMessage, utcnow
from tutoradmin.views.revenue import figure_of, tables_of

from .query_counts import page_statements
from .test_reports import BY_COURSE, BY_TUTOR, END, MONTHLY, START, TOTAL, build_sales, paid_order, utc

OFFICE_PAGE = "/admin/revenus/"
ACCOUNTING_PAGE = "/admin/compta/revenus/"
PERIOD = "?debut=2026-01-01&fin=2026-05-31"
ROLES = ["anonymous", "student", "tutor", "accountant", "staff", "admin"]
CAN_SEE = {OFFICE_PAGE: {"staff", "admin"}, ACCOUNTING_PAGE: {"accountant"}}
HEADERS = ["Encaissé", "Remboursé", "Net", "Coût des tuteurs", "Marge", "Marge (%)"]


def _urls(page):
    return [
        page,
        page + PERIOD,
        page + "export/mensuel.csv",
        page + "export/tuteurs.csv" + PERIOD,
    ]


@pytest.fixture
def sales(db, make):
    return build_sales(db, make)


def _dollars(cents):
    return f"{Decimal(cents).scaleb(-2):.2f}"


def _expected_row(label, collected, refunded, cost):
    net, margin = collected - refunded, collected - refunded - cost
    rate = f"{Decimal(margin) / Decimal(net) * 100:.2f}" if net else ""
    return [label] + [_dollars(c) for c in (collected, refunded, net, cost, margin)] + [rate]


def _csv(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    text = response.get_data(as_text=True)
    # UTF-8 with a byte order mark, so that a spreadsheet keeps the accents.
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


# --- who may see it -------------------------------------------------------------------------


@pytest.mark.parametrize("page", [OFFICE_PAGE, ACCOUNTING_PAGE])
@pytest.mark.parametrize("role", ROLES)
def test_only_the_office_and_the_accountant_see_revenue(client, login_as, role, page):
    if role != "anonymous":
        login_as(role)
    for url in _urls(page):
        response = client.get(url)
        if role == "anonymous":
            assert response.status_code == 302, url
            location = urlsplit(response.headers["Location"])
            assert location.path == "/connexion"
        else:
            assert response.status_code == (200 if role in CAN_SEE[page] else 403), url


@pytest.mark.parametrize("role, page", [("accountant", ACCOUNTING_PAGE), ("staff", OFFICE_PAGE)])
def test_each_role_finds_the_revenue_page_in_its_menu(client, login_as, role, page):
    login_as(role)
    html = client.get("/admin/").get_data(as_text=True)
    assert f'href="{page}"' in html
    other = ACCOUNTING_PAGE if page == OFFICE_PAGE else OFFICE_PAGE
    assert f'href="{other}"' not in html


def _row_counts(db):
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def test_the_accountant_cannot_post_anything_to_the_revenue_page(client, login_as, sales, db):
    login_as("accountant")
    db.session.commit()
    before = _row_counts(db)
    for url in _urls(ACCOUNTING_PAGE) + _urls(OFFICE_PAGE):
        response = client.post(url, data={"debut": "2026-01-01", "status": "refunded", "amount_cents": "1"})
        assert response.status_code in (403, 405), url
    db.session.expire_all()
    assert _row_counts(db) == before


# --- the page -----------------------------------------------------------------------------


def test_the_page_shows_charts_and_tables_of_the_period(client, login_as, sales):
    login_as("accountant")
    response = client.get(ACCOUNTING_PAGE + PERIOD)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    # Plotly is served by the app itself, once, before the charts.
    assert html.count('<script src="/vendor/plotly/') == 1
    assert html.index('<script src="/vendor/plotly/') < html.index('class="plotly-graph-div"')
    assert "cdn.plot.ly" not in html
    assert html.count('class="plotly-graph-div"') == 4
    assert "Du 1 janvier 2026 au 31 mai 2026" in html
    for text in ["janvier 2026", "mars 2026", "Cours A", "Tuteur Y", "212,00", "192,00", "82,00"]:
        assert text in html
    for slug in ("mensuel", "annuel", "cours", "tuteurs"):
        assert f"/admin/compta/revenus/export/{slug}.csv?debut=2026-01-01&amp;fin=2026-05-31" in html


def test_every_chart_is_a_valid_plotly_figure_of_the_table(sales):
    tables = tables_of(reports.revenue_report(START, END))
    # graph_objects refuses any property Plotly does not know.
    monthly, yearly, *_shares = [go.Figure(figure_of(table)) for table in tables]
    assert list(monthly.data[0].x) == [label for label, _key, _f in tables[0].rows]
    assert [trace.name for trace in monthly.data] == HEADERS
    assert round(sum(monthly.data[0].y) * 100) == TOTAL.collected_cents
    assert list(yearly.data[5].y) == [pytest.approx(8200 / 19200 * 100)]
    shares = go.Figure(figure_of(tables[2]))
    assert [trace.name for trace in shares.data] == ["Net", "Coût des tuteurs", "Marge"]
    assert list(shares.data[0].y) == ["Cours B", "Cours A"]  # largest net revenue on top
    # A month without sales has rows of zeros, and no chart: no flat line on a made-up axis.
    empty = tables_of(reports.revenue_report(date(2027, 1, 1), date(2027, 1, 31)))
    assert [len(table.rows) for table in empty] == [1, 1, 0, 0]
    assert [figure_of(table) for table in empty] == [None] * 4


def test_long_course_titles_break_at_their_dash_on_the_chart_and_stay_whole_in_the_hover(sales, db):
    title = "Mathématiques – Secondaire 4 (SN)"
    sales.course_a.title = title
    db.session.commit()
    by_course = go.Figure(figure_of(tables_of(reports.revenue_report(START, END))[2]))
    assert list(by_course.data[0].y) == list(by_course.layout.yaxis.tickvals) == ["Cours B", title]
    assert list(by_course.layout.yaxis.ticktext) == ["Cours B", "Mathématiques<br>Secondaire 4 (SN)"]


def _text(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\xa0", " ")


EMPTY_CHART = 'role="status">Aucune donnée pour cette période.</p>'
EMPTY_TABLE = 'class="text-muted">Aucune donnée pour cette période.</td>'


@pytest.mark.parametrize("page, role", [(OFFICE_PAGE, "staff"), (ACCOUNTING_PAGE, "accountant")])
def test_a_period_without_activity_says_so_instead_of_drawing_zeros(client, login_as, sales, page, role):
    login_as(role)
    # March 2026: between the sales of February and April, nothing was paid, refunded or taught.
    response = client.get(page + "?debut=2026-03-01&fin=2026-03-31")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # No chart, hence no Plotly to download; each chart and each table says there is nothing.
    assert "plotly-graph-div" not in html and "/vendor/plotly/" not in html
    assert html.count(EMPTY_CHART) == 4
    assert html.count(EMPTY_TABLE) == 5
    text = _text(html)
    assert "mars 2026 0,00 $" not in text and "Absent 0" not in text and "Total" not in text
    # The summary still gives the figures of the period, and the exports still answer.
    assert "Encaissé 0,00 $" in text
    assert _csv(client, page + "export/mensuel.csv?debut=2026-03-01&fin=2026-03-31")[1][0] == "2026-03"


def test_a_period_with_activity_keeps_its_quiet_months_and_says_what_it_lacks(client, login_as, sales):
    login_as("accountant")
    html = client.get(ACCOUNTING_PAGE + PERIOD).get_data(as_text=True)
    assert EMPTY_CHART not in html
    assert html.count('class="plotly-graph-div"') == 4
    # March stays in the monthly series, at zero, between February and April.
    assert "mars 2026 0,00 $ 0,00 $ 0,00 $ 0,00 $ 0,00 $ —" in _text(html)
    # No session of the period was marked absent or late-cancelled.
    assert html.split('id="presences"', 1)[1].count(EMPTY_TABLE) == 1


def test_the_default_period_runs_from_january_last_year_to_today(client, login_as):
    login_as("admin")
    html = client.get(OFFICE_PAGE).get_data(as_text=True)
    today = local_today(utcnow())
    assert f'value="{today.year - 1}-01-01"' in html and f'value="{today.isoformat()}"' in html


@pytest.mark.parametrize(
    "query, message",
    [
        ("?debut=2026-13-01", "Date de début invalide : « 2026-13-01 » (format attendu AAAA-MM-JJ)."),
        ("?fin=demain", "Date de fin invalide : « demain » (format attendu AAAA-MM-JJ)."),
        ("?debut=0001-01-01", "Date de début invalide"),
        ("?debut=2026-05-01&fin=2026-01-01", "La date de début doit précéder la date de fin."),
        ("?debut=2000-01-01&fin=2026-01-01", "La période ne peut pas dépasser 10 ans."),
    ],
)
def test_a_bad_period_gets_a_french_message(client, login_as, sales, query, message):
    login_as("accountant")
    page = client.get(ACCOUNTING_PAGE + query)
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert message in html
    assert "plotly-graph-div" not in html and 'name="debut"' in html
    export = client.get(ACCOUNTING_PAGE + "export/mensuel.csv" + query)
    assert export.status_code == 400 and message in export.get_data(as_text=True)


def test_an_unknown_export_is_not_found(client, login_as):
    login_as("accountant")
    assert client.get(ACCOUNTING_PAGE + "export/tout.csv").status_code == 404


# --- the exports -------------------------------------------------------------------------


def test_the_monthly_export_matches_the_figures(client, login_as, sales):
    login_as("accountant")
    rows = _csv(client, ACCOUNTING_PAGE + "export/mensuel.csv" + PERIOD)
    assert rows[0] == ["Mois", *HEADERS]
    assert rows[1:] == [_expected_row(month, *figures) for month, figures in MONTHLY.items()]


def test_the_yearly_export_matches_the_figures(client, login_as, sales):
    login_as("staff")
    rows = _csv(client, OFFICE_PAGE + "export/annuel.csv" + PERIOD)
    assert rows == [["Année", *HEADERS], _expected_row("2026", 21200, 2000, 11000)]
    assert TOTAL.net_cents == 19200


@pytest.mark.parametrize("slug, header, expected", [("cours", "Cours", BY_COURSE), ("tuteurs", "Tuteur", BY_TUTOR)])
def test_the_cumulative_exports_match_the_figures(client, login_as, sales, slug, header, expected):
    login_as("admin")
    rows = _csv(client, OFFICE_PAGE + f"export/{slug}.csv" + PERIOD)
    assert rows[0] == [header, *HEADERS]
    assert sorted(rows[1:]) == sorted(_expected_row(name, *figures) for name, figures in expected.items())


def test_the_page_costs_the_same_queries_whatever_the_data(client, login_as, sales, db, make):
    login_as("accountant")
    db.session.commit()

    def queries(url):
        return len(page_statements(client, _db, url)[0])

    few = queries(ACCOUNTING_PAGE + PERIOD)
    for n in range(10):
        order = paid_order(
            db,
            sales.student,
            utc("2026-03-10 12:00") + timedelta(days=n),
            [
                (sales.course_b, sales.tutor_y, 60, utc("2026-03-20 14:00") + timedelta(days=n)),
                (sales.course_a, sales.tutor_x, 90, utc("2026-03-21 14:00") + timedelta(days=n)),
            ],
            number=100 + n,
        )
        for item in order.items:
            # Some of them no-shows, for the attendance breakdown.
            marked = {"attendance": "no_show", "tutor_share_percent": 100, "student_credit_percent": 0}
            make.appointment(
                student=sales.student,
                tutor=item.tutor,
                course=item.course,
                starts_at=item.starts_at,
                duration_minutes=item.duration_minutes,
                order_item=item,
                status="completed",
                **({**marked, "attendance_marked_at": item.ends_at} if n % 2 else {}),
            )
    db.session.commit()
    assert queries(ACCOUNTING_PAGE + PERIOD) == few


# --- no-shows and late cancellations ---------------------------------------------------------


@pytest.fixture
def late_cancel(sales, db, make):
    """Order 3's session of 5 May (60,00 $ paid; tutor Y, 30,00 $) corrected into a late cancellation
    under the default policy: 30,00 $ of credit to the student, 15,00 $ to the tutor."""
    session = sales.late_april.items[0].appointment
    attendance.mark(session, make.user(role="staff"), "late_cancel", "", utc("2026-05-06 12:00"))
    db.session.commit()
    return session


ATTENDANCE_HEADER = [
    "Présence",
    "Séances",
    "Payé par les étudiants",
    "Crédit rendu",
    "Revenu conservé",
    "Coût des tuteurs",
    "Marge",
]


def test_the_page_breaks_down_what_absences_and_late_cancellations_brought_in(client, login_as, late_cancel):
    login_as("staff")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(OFFICE_PAGE + PERIOD).get_data(as_text=True)))

    assert "Absences et annulations tardives" in text
    assert "Absent 0 0,00 $ 0,00 $ 0,00 $ 0,00 $ 0,00 $" in text.replace("\xa0", " ")
    assert "Annulation tardive 1 60,00 $ 30,00 $ 30,00 $ 15,00 $ 15,00 $" in text.replace("\xa0", " ")
    # The tutor cost follows the mark: 110,00 − 15,00 $.
    assert reports.revenue_report(START, END).total.tutor_cost_cents == TOTAL.tutor_cost_cents - 1500


def test_the_attendance_export_matches_the_breakdown(client, login_as, late_cancel):
    login_as("accountant")
    rows = _csv(client, ACCOUNTING_PAGE + "export/presences.csv" + PERIOD)
    assert rows == [
        ATTENDANCE_HEADER,
        ["Absent", "0", "0.00", "0.00", "0.00", "0.00", "0.00"],
        ["Annulation tardive", "1", "60.00", "30.00", "30.00", "15.00", "15.00"],
    ]


def test_exports_defuse_names_a_spreadsheet_would_run_as_formulas(client, login_as, sales, db):
    sales.course_a.title = "=SOMME(A1:A9)"
    db.session.commit()
    login_as("accountant")
    rows = _csv(client, ACCOUNTING_PAGE + "export/cours.csv" + PERIOD)
    assert "'=SOMME(A1:A9)" in [row[0] for row in rows]


# --- the overview -----------------------------------------------------------------------


def test_the_overview_compares_this_month_with_last_month_and_counts_waiting_tickets(client, login_as, db, make):
    login_as("accountant")
    now = utcnow()
    month_start = local_instant(local_today(now).replace(day=1), time(0))
    course_a, course_b = make.course(rate_cents=4500), make.course(rate_cents=6000)
    tutor = make.tutor(courses=[course_a, course_b])
    student, staff = make.user(), make.user(role="staff")
    recent = paid_order(
        db,
        student,
        max(month_start, now - timedelta(minutes=1)),
        [
            (course_b, tutor, 60, now + timedelta(days=3)),
        ],
        number=1,
    )
    paid_order(
        db,
        student,
        month_start - timedelta(days=3),
        [
            (course_a, tutor, 60, now + timedelta(days=4)),
            (course_a, tutor, 60, now + timedelta(days=5)),
        ],
        number=2,
    )
    waiting = Ticket(student=student, subject="Toujours sans réponse")
    answered = Ticket(student=student, subject="Répondu")
    answered.messages.append(TicketMessage(author=staff, body="Bonjour !"))
    noted = Ticket(student=student, subject="Note interne seulement")
    noted.messages.append(TicketMessage(author=staff, body="À voir", is_internal=True))
    closed = Ticket(student=student, subject="Fermé sans réponse", status="ferme")
    db.session.add_all([waiting, answered, noted, closed])
    db.session.commit()

    html = client.get("/admin/").get_data(as_text=True)
    collected = re.search(
        r"<td>Encaissé</td>\s*<td[^>]*>([^<]*)</td>\s*<td[^>]*>([^<]*)</td>"
        r"\s*<td[^>]*>([^<]*)</td>",
        html,
    )
    assert collected.groups() == ("60,00\xa0$", "90,00\xa0$", money(-3000))
    waiting_count = re.search(r"Billets sans réponse</div>\s*<div[^>]*>(\d+)</div>", html)
    assert waiting_count.group(1) == "2"
    recent_orders = html.split("Commandes récentes", 1)[1]
    assert f'<a href="/admin/compta/commandes/details/?id={recent.id}">#{recent.id}</a>' in recent_orders

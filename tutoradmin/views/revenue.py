"""The revenue page (SPEC §9): Plotly charts, tables and CSV exports over a chosen period.

The charts draw with Plotly's basic bundle and its French locale (vendor_assets.PLOTLY).

The office and the accountant each have their own view class and URL, sharing RevenuePage.
Only GET routes: nothing here writes.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import plotly.io
from babel.numbers import format_percent, get_decimal_symbol, get_group_symbol
from flask import Response, request, url_for
from flask_admin import expose
from markupsafe import Markup

from .. import attendance_income, reports, vendor_assets
from ..formatting import LOCALE, local_date, money
from ..localtime import local_today
from ..models import utcnow
from . import csv_export
from .base import ACCOUNTING, OFFICE, SecureView

#: (header, Figures attribute) of every amount column, in order.
AMOUNTS = [
    ("Encaissé", "collected_cents"),
    ("Remboursé", "refunded_cents"),
    ("Net", "net_cents"),
    ("Coût des tuteurs", "tutor_cost_cents"),
    ("Marge", "margin_cents"),
]
MARGIN_RATE = "Marge (%)"
HEADERS = [header for header, _name in AMOUNTS] + [MARGIN_RATE]
COLORS = {
    "collected_cents": "#1f5fa8",
    "refunded_cents": "#d9822b",
    "net_cents": "#2a9d8f",
    "tutor_cost_cents": "#8e6bbf",
    "margin_cents": "#264653",
    "margin_rate": "#e63946",
}
#: What a chart or a table shows instead of zeros for a period without any activity.
EMPTY = "Aucune donnée pour cette période."
#: Plotly's own texts (toolbar, hover) in French: the `fr` locale served with Plotly.
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "locale": "fr"}
#: Decimal comma and no-break space thousands, as in 1 234,56 $ (fr-CA), for Plotly's axes and hovers.
SEPARATORS = get_decimal_symbol(LOCALE) + get_group_symbol(LOCALE)


@dataclass(frozen=True)
class Table:
    """One table of the page and its CSV export: rows of (label, CSV label, Figures)."""

    slug: str
    title: str
    header: str
    rows: list
    total: object = None


TABLE_SLUGS = ("mensuel", "annuel", "cours", "tuteurs")
#: The attendance breakdown's table and export.
ATTENDANCE_SLUG = "presences"
#: (header, AttendanceIncome attribute) of the attendance breakdown, after the kind of mark.
ATTENDANCE_COLUMNS = [
    ("Séances", "sessions"),
    ("Payé par les étudiants", "paid_cents"),
    ("Crédit rendu", "credit_cents"),
    ("Revenu conservé", "income_cents"),
    ("Coût des tuteurs", "tutor_cost_cents"),
    ("Marge", "margin_cents"),
]


def tables_of(report):
    """The page's four tables, in order (a table the report left empty has no rows)."""
    return [
        Table("mensuel", "Par mois", "Mois", [(p.label, p.key, figures) for p, figures in report.months], report.total),
        Table("annuel", "Par année", "Année", [(p.label, p.key, figures) for p, figures in report.years], report.total),
        Table(
            "cours", "Cumul par cours", "Cours", [(s.name, s.name, s.figures) for s in report.by_course], report.total
        ),
        Table(
            "tuteurs",
            "Cumul par tuteur",
            "Tuteur",
            [(s.name, s.name, s.figures) for s in report.by_tutor],
            report.total,
        ),
    ]


# --- display ------------------------------------------------------------------------------


def percent(rate):
    """38,5 % — or a dash when there is no margin rate (no net revenue)."""
    if rate is None:
        return "—"
    return format_percent(rate, "#,##0.0 %", locale=LOCALE)


def _cells(figures):
    return [money(getattr(figures, name)) for _header, name in AMOUNTS] + [percent(figures.margin_rate)]


def _csv_percent(rate):
    return None if rate is None else (rate * 100).quantize(csv_export.CENT)


def _attendance_cells(line):
    return [
        str(getattr(line, name)) if name == "sessions" else money(getattr(line, name))
        for _header, name in ATTENDANCE_COLUMNS
    ]


def has_activity(rows):
    """Whether any row of a table has money in or out (a period without sales has only zeros)."""
    return any(figures != reports.Figures() for *_labels, figures in rows)


def _dollar_values(rows, name):
    # Plotly plots floats; the figures themselves stay exact.
    return [float(Decimal(getattr(figures, name)).scaleb(-2)) for *_labels, figures in rows]


def _rate_values(rows):
    return [None if f.margin_rate is None else float(f.margin_rate * 100) for *_labels, f in rows]


GRID = {"gridcolor": "#e5ecf6", "zerolinecolor": "#c9d3e0", "automargin": True}


def _figure(traces, **layout):
    """A Plotly figure as plain data: building it through graph_objects would validate every
    property on every request, which costs more than the report's queries (tests validate)."""
    return {
        "data": traces,
        "layout": {
            "separators": SEPARATORS,
            "height": 420,
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            "font": {"family": "system-ui, sans-serif"},
            "margin": {"l": 60, "r": 60, "t": 50, "b": 40},
            # Above the plot: slanted month names below it would run into a legend there.
            "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
            "hovermode": "x unified",
            **layout,
        },
    }


def _series_figure(rows):
    """Bars of money in and out, lines of net and margin, and the margin rate on its own axis."""
    labels = [label for label, *_rest in rows]
    traces = []
    for header, name in AMOUNTS:
        line = name in ("net_cents", "margin_cents")
        traces.append(
            {
                "type": "scatter" if line else "bar",
                **({"mode": "lines+markers"} if line else {}),
                "x": labels,
                "y": _dollar_values(rows, name),
                "name": header,
                "marker": {"color": COLORS[name]},
                "hovertemplate": "%{y:,.2f} $",
            }
        )
    traces.append(
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": labels,
            "y": _rate_values(rows),
            "name": MARGIN_RATE,
            "yaxis": "y2",
            "hovertemplate": "%{y:.1f} %",
            "line": {"dash": "dot", "color": COLORS["margin_rate"]},
            "marker": {"color": COLORS["margin_rate"]},
        }
    )
    return _figure(
        traces,
        barmode="group",
        xaxis={"type": "category", "tickangle": -45, "automargin": True, **GRID},
        yaxis={"title": {"text": "Montant ($)"}, "tickformat": ",.0f", **GRID},
        yaxis2={
            "title": {"text": MARGIN_RATE},
            "overlaying": "y",
            "side": "right",
            "ticksuffix": " %",
            "tickformat": ".0f",
            "rangemode": "tozero",
            "showgrid": False,
            "tickmode": "linear",
            "tick0": 0,
            "dtick": 10,
        },
    )


def _tick_label(name):
    """A course title on two lines at its dash, so that its bars keep their width on a phone."""
    head, dash, tail = name.partition(" – ")
    return f"{head}<br>{tail}" if dash and len(name) > 20 else name


def _shares_figure(rows):
    """Horizontal bars per course or tutor, the largest net revenue on top."""
    names = [label for label, *_rest in rows][::-1]
    traces = [
        {
            "type": "bar",
            "orientation": "h",
            "y": names,
            "x": _dollar_values(rows, name)[::-1],
            "name": header,
            "marker": {"color": COLORS[name]},
            "hovertemplate": "%{x:,.2f} $",
        }
        for header, name in AMOUNTS[2:]
    ]
    return _figure(
        traces,
        barmode="group",
        hovermode="y unified",
        height=max(320, 90 + 60 * len(rows)),
        xaxis={"title": {"text": "Montant ($)"}, "tickformat": ",.0f", **GRID},
        # The hover still names the course in full.
        yaxis={"tickvals": names, "ticktext": [_tick_label(n) for n in names], **GRID},
    )


def figure_of(table):
    """The chart of a table, as Plotly figure data (None for a table without activity)."""
    if not has_activity(table.rows):
        return None
    return _series_figure(table.rows) if table.slug in ("mensuel", "annuel") else _shares_figure(table.rows)


def _chart(table):
    figure = figure_of(table)
    if figure is None:
        return None
    return Markup(
        plotly.io.to_html(
            figure,
            full_html=False,
            include_plotlyjs=False,
            validate=False,
            config=PLOTLY_CONFIG,
        )
    )


def _csv_rows(table):
    """The header and rows of a table's export: plain dollars and percentages a spreadsheet adds up."""
    rows = [
        [csv_label]
        + [csv_export.dollars(getattr(figures, name)) for _header, name in AMOUNTS]
        + [_csv_percent(figures.margin_rate)]
        for _label, csv_label, figures in table.rows
    ]
    return [table.header, *HEADERS], rows


def _attendance_csv_rows(lines):
    rows = [
        [line.label]
        + [
            getattr(line, name) if name == "sessions" else csv_export.dollars(getattr(line, name))
            for _header, name in ATTENDANCE_COLUMNS
        ]
        for line in lines
    ]
    return ["Présence", *[header for header, _name in ATTENDANCE_COLUMNS]], rows


# --- input --------------------------------------------------------------------------------


def _day(value, label):
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        day = None
    if day is None or not 1900 <= day.year < 3000:
        raise reports.ReportError(f"Date {label} invalide : « {value} » (format attendu AAAA-MM-JJ).")
    return day


def requested_range(args, today):
    """The period asked for in `debut` and `fin` (AAAA-MM-JJ), each defaulting to the usual one."""
    default_start, default_end = reports.default_range(today)
    start_text, end_text = args.get("debut", "").strip(), args.get("fin", "").strip()
    start = _day(start_text, "de début") if start_text else default_start
    end = _day(end_text, "de fin") if end_text else default_end
    reports.check_range(start, end)
    return start, end


# --- views --------------------------------------------------------------------------------


def _sections(report, period):
    """What the page shows of each table: its chart, its formatted rows (none without activity), its export link."""
    return [
        {
            "table": table,
            "chart": _chart(table),
            "rows": [(label, _cells(figures)) for label, _key, figures in table.rows]
            if has_activity(table.rows)
            else [],
            "total": _cells(table.total),
            "csv_url": url_for(".export", table=table.slug, **period),
        }
        for table in tables_of(report)
    ]


class RevenuePage:
    """Charts and tables of revenue for a period, and the CSV export of each table."""

    @expose("/")
    def index(self):
        form = {"debut": request.args.get("debut", ""), "fin": request.args.get("fin", "")}
        try:
            start, end = requested_range(request.args, local_today(utcnow()))
        except reports.ReportError as exc:
            return self.render("admin/revenue.html", error=str(exc), form=form, report=None), 400
        report = reports.revenue_report(start, end)
        period = {"debut": start.isoformat(), "fin": end.isoformat()}
        sections = _sections(report, period)
        return self.render(
            "admin/revenue.html",
            error=None,
            form=period,
            report=report,
            period_label=f"Du {local_date(start)} au {local_date(end)}",
            summary=list(zip(HEADERS, _cells(report.total), strict=True)),
            headers=HEADERS,
            sections=sections,
            attendance={
                "headers": [header for header, _name in ATTENDANCE_COLUMNS],
                "rows": [(line.label, _attendance_cells(line)) for line in report.attendance]
                if any(line.sessions for line in report.attendance)
                else [],
                "total": _attendance_cells(attendance_income.total(report.attendance)),
                "csv_url": url_for(".export", table=ATTENDANCE_SLUG, **period),
            },
            empty=EMPTY,
            # Without a chart to draw, the page spares the download of Plotly.
            plotly_url=vendor_assets.url_of(vendor_assets.PLOTLY) if any(s["chart"] for s in sections) else None,
        )

    @expose("/export/<table>.csv")
    def export(self, table):
        if table not in (*TABLE_SLUGS, ATTENDANCE_SLUG):
            return Response("Tableau inconnu.", status=404, mimetype="text/plain")
        try:
            start, end = requested_range(request.args, local_today(utcnow()))
        except reports.ReportError as exc:
            return Response(str(exc), status=400, mimetype="text/plain")
        # A series alone costs less than the whole report.
        if table == "mensuel":
            report = reports.RevenueReport(start, end, months=reports.revenue_series(reports.months(start, end)))
        elif table == "annuel":
            report = reports.RevenueReport(start, end, years=reports.revenue_series(reports.years(start, end)))
        else:
            report = reports.revenue_report(start, end)
        if table == ATTENDANCE_SLUG:
            header, rows = _attendance_csv_rows(report.attendance)
        else:
            header, rows = _csv_rows({t.slug: t for t in tables_of(report)}[table])
        filename = f"revenus-{table}-{start.isoformat()}-au-{end.isoformat()}.csv"
        return csv_export.response(filename, header, rows)


class OfficeRevenueView(RevenuePage, SecureView):
    allowed_roles = OFFICE


class AccountingRevenueView(RevenuePage, SecureView):
    allowed_roles = ACCOUNTING

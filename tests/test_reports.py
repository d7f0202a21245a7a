"""Revenue figures (SPEC §9) on a small dataset whose figures are worked out by hand.

America/Toronto is UTC−5 until 8 March 2026 and UTC−4 from then to 1 November 2026.

| what | UTC | local month |
|---|---|---|
| order 1: A/X 45,00 $ + B/Y 60,00 $, coupon 10 %, card 94,50 $ | 2026-01-15 15:00 | January |
| order 2: A/Y 90 min 67,50 $, 10,00 $ of credit, card 57,50 $ | 2026-02-01 03:30 | January |
| order 3: B/Y 60,00 $, card 60,00 $ | 2026-05-01 02:00 | April |
| order 4: failed card payment of 45,00 $ | 2026-04-10 | — |
| refund of 20,00 $ on order 1's B/Y session (session kept) | 2026-05-12 16:00 | May |
| a refund still pending (5,00 $) | 2026-05-13 | — |

Sessions: order 1's A/X (tutor X, 25,00 $) on 2026-01-20 and B/Y (30,00 $) on 2026-02-03, both
completed; order 2's session cancelled; order 3's B/Y (30,00 $) completed on 2026-05-05; a
session staff booked without payment, A/X, completed on 2026-03-01 04:30 UTC (28 February
locally), costs tutor X's rate, 25,00 $; a session still scheduled costs nothing. March is empty.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import event

from tutoradmin import reports
from tutoradmin.models import Order, OrderItem, Payment, Refund, RefundItem
from tutoradmin.reports import Figures

START, END = date(2026, 1, 1), date(2026, 5, 31)

#: Local month → (collected, refunded, tutor cost), in cents.
MONTHLY = {
    "2026-01": (9450 + 5750, 0, 2500),
    "2026-02": (0, 0, 3000 + 2500),
    "2026-03": (0, 0, 0),
    "2026-04": (6000, 0, 0),
    "2026-05": (0, 2000, 3000),
}
TOTAL = Figures(21200, 2000, 11000)
#: Course or tutor → (collected, refunded, tutor cost) over START..END.
BY_COURSE = {"Cours A": (4050 + 5750, 0, 2500 + 2500), "Cours B": (5400 + 6000, 2000, 3000 + 3000)}
BY_TUTOR = {"Tuteur X": (4050, 0, 2500 + 2500), "Tuteur Y": (5400 + 5750 + 6000, 2000, 3000 + 3000)}


def utc(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def paid_order(db, student, paid_at, lines, discount=(), credit=(), payment="succeeded", number=0):
    """An order of (course, tutor, minutes) lines, with each line's discount and credit share."""
    items = []
    for i, (course, tutor, minutes, starts_at) in enumerate(lines):
        price = course.rate_cents * minutes // 60
        items.append(
            OrderItem(
                course=course,
                tutor=tutor,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=minutes),
                duration_minutes=minutes,
                price_cents=price,
                discount_cents=discount[i] if discount else 0,
                credit_cents=credit[i] if credit else 0,
                tutor_earnings_cents=tutor.hourly_rate_cents * minutes // 60,
            )
        )
    subtotal = sum(i.price_cents for i in items)
    discount_cents, credit_cents = sum(discount), sum(credit)
    order = Order(
        user=student,
        status="paid" if payment == "succeeded" else "failed",
        subtotal_cents=subtotal,
        discount_cents=discount_cents,
        credit_cents=credit_cents,
        total_cents=subtotal - discount_cents - credit_cents,
        items=items,
        created_at=paid_at,
        paid_at=paid_at if payment == "succeeded" else None,
    )
    order.payments.append(
        Payment(
            provider="simulated",
            gateway_payment_id=f"pi_rapport_{number}",
            idempotency_key=f"rapport-{number}",
            amount_cents=order.total_cents,
            status=payment,
            created_at=paid_at,
            succeeded_at=paid_at if payment == "succeeded" else None,
        )
    )
    db.session.add(order)
    db.session.flush()
    return order


def build_sales(db, make):
    """The dataset of the module docstring; returns its main rows."""
    course_a = make.course(title="Cours A", rate_cents=4500)
    course_b = make.course(title="Cours B", rate_cents=6000)
    tutor_x = make.tutor(display_name="Tuteur X", hourly_rate_cents=2500, courses=[course_a])
    tutor_y = make.tutor(display_name="Tuteur Y", hourly_rate_cents=3000, courses=[course_a, course_b])
    student = make.user()
    first = paid_order(
        db,
        student,
        utc("2026-01-15 15:00"),
        [
            (course_a, tutor_x, 60, utc("2026-01-20 14:00")),
            (course_b, tutor_y, 60, utc("2026-02-03 14:00")),
        ],
        discount=(450, 600),
        number=1,
    )
    first.coupon = make.coupon(code="RENTREE10", kind="percent", value=10)
    evening = paid_order(
        db,
        student,
        utc("2026-02-01 03:30"),
        [
            (course_a, tutor_y, 90, utc("2026-02-10 15:00")),
        ],
        credit=(1000,),
        number=2,
    )
    late_april = paid_order(
        db,
        student,
        utc("2026-05-01 02:00"),
        [
            (course_b, tutor_y, 60, utc("2026-05-05 14:00")),
        ],
        number=3,
    )
    paid_order(
        db,
        student,
        utc("2026-04-10 12:00"),
        [
            (course_a, tutor_x, 60, utc("2026-04-20 14:00")),
        ],
        payment="failed",
        number=4,
    )

    def session(item, status, **fields):
        return make.appointment(
            student=student,
            tutor=item.tutor,
            course=item.course,
            starts_at=item.starts_at,
            duration_minutes=item.duration_minutes,
            order_item=item,
            status=status,
            **fields,
        )

    session(first.items[0], "completed")
    session(first.items[1], "completed")
    session(evening.items[0], "cancelled", cancelled_at=utc("2026-02-05 12:00"))
    session(late_april.items[0], "completed")
    make.appointment(
        student=student, tutor=tutor_x, course=course_a, starts_at=utc("2026-03-01 04:30"), status="completed"
    )
    make.appointment(student=student, tutor=tutor_y, course=course_b, starts_at=utc("2026-05-20 14:00"))
    refund = Refund(
        order=first,
        payment_id=first.payments[0].id,
        amount_cents=2000,
        reason="Geste commercial",
        status="succeeded",
        idempotency_key="rapport-remboursement-1",
        processed_at=utc("2026-05-12 16:00"),
        created_at=utc("2026-05-12 16:00"),
    )
    refund.items.append(RefundItem(order_item=first.items[1], amount_cents=2000, cancels_appointment=False))
    db.session.add(refund)
    db.session.add(
        Refund(
            order=late_april,
            amount_cents=500,
            reason="En attente",
            status="pending",
            idempotency_key="rapport-remboursement-2",
            created_at=utc("2026-05-13 12:00"),
        )
    )
    db.session.commit()
    return SimpleNamespace(
        course_a=course_a,
        course_b=course_b,
        tutor_x=tutor_x,
        tutor_y=tutor_y,
        student=student,
        first=first,
        late_april=late_april,
    )


@pytest.fixture
def sales(db, make):
    return build_sales(db, make)


def _triple(figures):
    return figures.collected_cents, figures.refunded_cents, figures.tutor_cost_cents


def _shares(shares):
    return {share.name: _triple(share.figures) for share in shares}


# --- periods --------------------------------------------------------------------------------


def test_months_are_local_calendar_months_cut_to_the_range():
    periods = reports.months(date(2025, 12, 15), date(2026, 2, 3))
    assert [(p.key, p.start, p.end) for p in periods] == [
        ("2025-12", date(2025, 12, 15), date(2026, 1, 1)),
        ("2026-01", date(2026, 1, 1), date(2026, 2, 1)),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 4)),
    ]
    assert periods[0].label == "décembre 2025"
    # Local midnight, in UTC: 05:00 in winter, 04:00 in summer.
    assert periods[1].starts_at == utc("2026-01-01 05:00")
    assert reports.months(date(2026, 7, 1), date(2026, 7, 31))[0].starts_at == utc("2026-07-01 04:00")


def test_years_are_cut_to_the_range():
    assert [(p.key, p.start, p.end) for p in reports.years(date(2025, 11, 15), date(2026, 2, 15))] == [
        ("2025", date(2025, 11, 15), date(2026, 1, 1)),
        ("2026", date(2026, 1, 1), date(2026, 2, 16)),
    ]


@pytest.mark.parametrize(
    "start, end, message",
    [
        (date(2026, 5, 1), date(2026, 4, 30), "La date de début doit précéder la date de fin."),
        (date(2016, 1, 1), date(2026, 1, 1), "La période ne peut pas dépasser 10 ans."),
    ],
)
def test_a_reversed_or_overlong_period_is_refused_in_french(start, end, message):
    with pytest.raises(reports.ReportError, match=message):
        reports.revenue_report(start, end)


# --- the figures --------------------------------------------------------------------------


def test_monthly_figures_by_local_month_with_empty_months_as_zeros(sales):
    series = reports.revenue_series(reports.months(START, END))
    assert {period.key: _triple(figures) for period, figures in series} == MONTHLY


def test_a_payment_late_in_the_evening_counts_in_its_local_month(sales):
    # 2026-02-01 03:30 UTC is 31 January 22:30 in Toronto; 2026-05-01 02:00 UTC is 30 April 22:00.
    january, february = reports.revenue_series(reports.months(date(2026, 1, 1), date(2026, 2, 28)))
    assert january[1].collected_cents == 9450 + 5750
    assert february[1].collected_cents == 0
    april, may = reports.revenue_series(reports.months(date(2026, 4, 1), date(2026, 5, 31)))
    assert (april[1].collected_cents, may[1].collected_cents) == (6000, 0)


def test_a_session_late_in_the_evening_costs_in_its_local_month(sales):
    # The session booked without payment starts 2026-03-01 04:30 UTC: 28 February, 23:30 locally.
    february, march = reports.revenue_series(reports.months(date(2026, 2, 1), date(2026, 3, 31)))
    assert (february[1].tutor_cost_cents, march[1].tutor_cost_cents) == (5500, 0)


def test_each_payment_falls_in_its_local_month_to_the_second(db, make):
    course, student = make.course(rate_cents=4500), make.user()
    tutor = make.tutor(courses=[course])
    periods = reports.months(date(2025, 1, 1), date(2026, 6, 30))
    for n, period in enumerate(periods[1:]):
        # A second before local midnight, then local midnight itself, in UTC.
        for k, moment in enumerate((period.starts_at - timedelta(seconds=1), period.starts_at)):
            paid_order(db, student, moment, [(course, tutor, 60, moment + timedelta(days=2))], number=1000 + 2 * n + k)
    db.session.commit()
    series = reports.revenue_series(periods)
    # Each month gets its first second and its last one; the first has no first, the last no last.
    assert [f.collected_cents for _p, f in series] == [4500] + [9000] * (len(periods) - 2) + [4500]


def test_net_margin_and_margin_rate(sales):
    series = {p.key: f for p, f in reports.revenue_series(reports.months(START, END))}
    january = series["2026-01"]
    assert (january.net_cents, january.margin_cents) == (15200, 12700)
    assert january.margin_rate == Decimal(12700) / Decimal(15200)
    february = series["2026-02"]
    assert (february.net_cents, february.margin_cents, february.margin_rate) == (0, -5500, None)
    may = series["2026-05"]
    assert (may.net_cents, may.margin_cents, may.margin_rate) == (-2000, -5000, Decimal("2.5"))
    assert series["2026-03"] == Figures() and series["2026-03"].margin_rate is None


def test_the_report_adds_up_years_and_the_whole_period(sales):
    report = reports.revenue_report(START, END)
    assert [(p.key, _triple(f)) for p, f in report.months] == list(MONTHLY.items())
    assert [(p.key, _triple(f)) for p, f in report.years] == [("2026", _triple(TOTAL))]
    assert report.total == TOTAL
    assert (report.total.net_cents, report.total.margin_cents) == (19200, 8200)


def test_cumulative_figures_by_course_and_by_tutor(sales):
    report = reports.revenue_report(START, END)
    assert _shares(report.by_course) == BY_COURSE
    assert _shares(report.by_tutor) == BY_TUTOR
    # Largest net revenue first.
    assert [share.name for share in report.by_tutor] == ["Tuteur Y", "Tuteur X"]
    assert [share.id for share in report.by_course] == [sales.course_a.id, sales.course_b.id]


def test_a_period_counts_only_what_falls_inside_it(sales):
    # From 21 January: order 1's payment (15 January) and its A/X session (20 January) stay out.
    report = reports.revenue_report(date(2026, 1, 21), date(2026, 2, 28))
    assert report.total == Figures(5750, 0, 5500)
    assert [p.key for p, _f in report.months] == ["2026-01", "2026-02"]
    assert _shares(report.by_tutor) == {"Tuteur Y": (5750, 0, 3000), "Tuteur X": (0, 0, 2500)}


def test_a_report_across_new_year_splits_the_years(sales, db, make):
    paid_order(
        db,
        sales.student,
        utc("2025-12-31 23:00"),
        [  # 18:00 on 31 December locally
            (sales.course_a, sales.tutor_x, 60, utc("2026-01-05 14:00")),
        ],
        number=9,
    )
    db.session.commit()
    report = reports.revenue_report(date(2025, 12, 1), date(2026, 1, 31))
    assert [(p.key, f.collected_cents) for p, f in report.years] == [("2025", 4500), ("2026", 15200)]


def test_money_no_session_accounts_for_shows_as_unattributed(sales, db):
    db.session.add(
        Refund(
            order=sales.late_april,
            amount_cents=700,
            reason="Frais",
            status="succeeded",
            idempotency_key="rapport-remboursement-3",
            processed_at=utc("2026-05-14 12:00"),
        )
    )
    db.session.commit()
    report = reports.revenue_report(START, END)
    assert report.total.refunded_cents == 2700
    for shares in (report.by_course, report.by_tutor):
        assert shares[-1].id is None and shares[-1].name == "Non attribué"
        assert _triple(shares[-1].figures) == (0, 700, 0)
        assert sum((s.figures for s in shares), Figures()) == report.total


def test_nothing_sold_gives_zeros_and_no_margin_rate(db):
    report = reports.revenue_report(START, END)
    assert [f for _p, f in report.months] == [Figures()] * 5
    assert (report.by_course, report.by_tutor, report.total.margin_rate) == ([], [], None)


def test_last_month_and_this_month_for_the_overview(sales):
    (last, last_figures), (this, this_figures) = reports.month_over_month(date(2026, 2, 14))
    assert (last.key, last.start, last.end) == ("2026-01", date(2026, 1, 1), date(2026, 2, 1))
    assert (this.key, this.start, this.end) == ("2026-02", date(2026, 2, 1), date(2026, 3, 1))
    assert _triple(last_figures) == MONTHLY["2026-01"]
    assert _triple(this_figures) == MONTHLY["2026-02"]


def test_one_statement_per_report_whatever_the_amount_of_data(sales, db, make):
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        reports.revenue_report(START, END)
        small = len(statements)
        for n in range(10, 30):
            paid_order(
                db,
                sales.student,
                utc("2026-03-10 15:00") + timedelta(days=n),
                [
                    (sales.course_b, sales.tutor_y, 60, utc("2026-03-20 14:00") + timedelta(days=n)),
                ],
                number=n,
            )
        db.session.commit()
        statements.clear()
        report = reports.revenue_report(START, END)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    # One statement, and on PostgreSQL one more for the planner settings.
    assert len(statements) == small <= 2
    assert report.total.collected_cents == TOTAL.collected_cents + 20 * 6000

"""Revenue (SPEC §9) as SQL aggregates: by local month and year, and cumulative by course and tutor.

Each definition lives in one helper below, reused by the overview, the charts and the exports:

- collected: succeeded card payments, dated by payment (``Payment.succeeded_at``);
- refunded: succeeded refunds, dated by refund (``Refund.processed_at``);
- net = collected − refunded;
- tutor cost: what the tutors' statements pay for completed sessions, dated by session
  (``Appointment.starts_at``), with the payout rules themselves (``earnings.payable`` and
  ``earnings.session_earnings``): the earnings recorded on the session's order item or, for a
  session that staff booked without payment (no order item) or moved to another tutor, the
  teaching tutor's current hourly rate for its length. A session refunded after it was taught is
  cancelled, so it leaves the cost of its month (the statements take it back as an adjustment);
- margin = net − tutor cost; margin % = margin / net (none when net is 0);
- attendance income (attendance_income.py): what no-shows and late cancellations brought in, by
  session date.

Periods are America/Toronto calendar months and years. Their bounds are computed here as UTC
instants and each row falls into its period through a CASE over those bounds: the same SQL on
SQLite (which has no time zones) and PostgreSQL, and a range condition the indexes can serve.
Every report is one statement (plus planner settings on PostgreSQL), whatever the amount of data.
"""

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal

from sqlalchemy import String, func, select, union_all

from . import attendance_income, earnings
from .errors import DomainError
from .formatting import month_label
from .localtime import add_months, local_instant, next_month
from .models import (
    Appointment,
    Course,
    OrderItem,
    Payment,
    PaymentStatus,
    Refund,
    RefundItem,
    RefundStatus,
    Tutor,
)
from .report_sql import execute, index_of, nothing, number

#: The longest period a report covers (bounds the size of its queries).
MAX_YEARS = 10
UNATTRIBUTED = "Non attribué"


class ReportError(DomainError):
    """A report period that cannot be shown; the message is for the user."""


# --- periods ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Local days from `start` to `end` (excluded): a month or a year, cut to the report's range."""

    start: date
    end: date
    label: str
    #: AAAA-MM or AAAA, for exports.
    key: str

    @property
    def starts_at(self):
        return local_instant(self.start, time(0))

    @property
    def ends_at(self):
        return local_instant(self.end, time(0))


def months(start, end):
    """Local months from `start` to `end` (both included), the first and last cut to those days."""
    periods, first = [], start.replace(day=1)
    while first <= end:
        following = next_month(first)
        periods.append(
            Period(max(first, start), min(following, end + timedelta(days=1)), month_label(first), f"{first:%Y-%m}")
        )
        first = following
    return periods


def years(start, end):
    """Local calendar years from `start` to `end` (both included), cut to those days."""
    return [
        Period(max(date(year, 1, 1), start), min(date(year + 1, 1, 1), end + timedelta(days=1)), str(year), str(year))
        for year in range(start.year, end.year + 1)
    ]


def default_range(today):
    """Since January 1st of last year, up to today: this year against the whole of last year."""
    return date(today.year - 1, 1, 1), today


def check_range(start, end):
    """Refuse a reversed or overly long period."""
    if start > end:
        raise ReportError("La date de début doit précéder la date de fin.")
    if end >= date(start.year + MAX_YEARS, start.month, 1):
        raise ReportError(f"La période ne peut pas dépasser {MAX_YEARS} ans.")


# --- figures ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """Revenue of one period, course or tutor, in cents."""

    collected_cents: int = 0
    refunded_cents: int = 0
    tutor_cost_cents: int = 0

    @property
    def net_cents(self):
        return self.collected_cents - self.refunded_cents

    @property
    def margin_cents(self):
        return self.net_cents - self.tutor_cost_cents

    @property
    def margin_rate(self):
        """Margin over net revenue (0.25 for 25 %), None when nothing was earned."""
        if self.net_cents == 0:
            return None
        return Decimal(self.margin_cents) / Decimal(self.net_cents)

    def __add__(self, other):
        return Figures(*(getattr(self, f) + getattr(other, f) for f in FIGURES_FIELDS))


#: The fields of Figures, in order.
FIGURES_FIELDS = ("collected_cents", "refunded_cents", "tutor_cost_cents")


@dataclass(frozen=True)
class Share:
    """The figures of one course or tutor (id None: money no session can be credited with)."""

    id: int | None
    name: str
    figures: Figures


# --- the definitions --------------------------------------------------------------------
# Each returns a SELECT of `at` (the moment that dates the money) and `cents`; with
# by_session=True, the same money split by session, with its `course_id` and `tutor_id`.


def collected_entries(by_session=False):
    """Collected: succeeded card payments, by payment date."""
    succeeded = Payment.status == PaymentStatus.SUCCEEDED.value
    if not by_session:
        return select(Payment.succeeded_at.label("at"), Payment.amount_cents.label("cents")).where(succeeded)
    return (
        select(
            Payment.succeeded_at.label("at"),
            OrderItem.card_cents.label("cents"),
            OrderItem.course_id,
            OrderItem.tutor_id,
        )
        .join(OrderItem, OrderItem.order_id == Payment.order_id)
        .where(succeeded)
    )


def refunded_entries(by_session=False):
    """Refunded: succeeded refunds to the card, by refund date."""
    succeeded = Refund.status == RefundStatus.SUCCEEDED.value
    if not by_session:
        return select(Refund.processed_at.label("at"), Refund.amount_cents.label("cents")).where(succeeded)
    return (
        select(
            Refund.processed_at.label("at"),
            RefundItem.amount_cents.label("cents"),
            OrderItem.course_id,
            OrderItem.tutor_id,
        )
        .join(RefundItem, RefundItem.refund_id == Refund.id)
        .join(OrderItem, OrderItem.id == RefundItem.order_item_id)
        .where(succeeded)
    )


def tutor_cost_entries():
    """Tutor cost: what the statements pay for completed sessions, by session date (per session)."""
    return (
        select(
            Appointment.starts_at.label("at"),
            earnings.session_earnings().label("cents"),
            Appointment.course_id,
            Appointment.tutor_id,
        )
        .join(Tutor, Tutor.id == Appointment.tutor_id)
        .outerjoin(OrderItem, OrderItem.id == Appointment.order_item_id)
        .where(earnings.payable())
    )


# --- aggregates -------------------------------------------------------------------------
# One statement per report: a CTE of sums reads each table once, per period and (for the
# cumulative tables) per course and tutor; the totals by month, year, course and tutor add
# those sums up in the same statement.

COLLECTED, REFUNDED, TUTOR_COST, COLLECTED_SPLIT, REFUNDED_SPLIT = range(5)
#: The Figures field of each measure; the split ones are the same money, per course and tutor.
FIELDS = {
    COLLECTED: "collected_cents",
    REFUNDED: "refunded_cents",
    TUTOR_COST: "tutor_cost_cents",
    COLLECTED_SPLIT: "collected_cents",
    REFUNDED_SPLIT: "refunded_cents",
}
#: The attendance breakdown's measures (attendance_income.py), after the money ones.
ATTENDANCE_MEASURES = dict(zip(range(5, 5 + len(attendance_income.FIELDS)), attendance_income.FIELDS, strict=True))
FIELDS.update(ATTENDANCE_MEASURES)
PER_PERIOD, PER_YEAR, PER_COURSE, PER_TUTOR, PER_ATTENDANCE = range(5)
KEYS = ("course_id", "tutor_id")


def _sums(measure, entries, periods, per_period=True, keys=()):
    """SELECT measure, period, course_id, tutor_id, SUM(cents) of `entries` within `periods`.

    Grouped by period index (if per_period) and by `keys`; the other columns are NULL.
    """
    rows = entries.subquery()
    period = index_of(rows.c.at, [p.ends_at for p in periods[:-1]]) if per_period else nothing()
    dated = (
        select(period.label("period"), *[rows.c[key] for key in keys], rows.c.cents)
        .where(rows.c.at >= periods[0].starts_at, rows.c.at < periods[-1].ends_at)
        .subquery()
    )
    groups = ([dated.c.period] if per_period else []) + [dated.c[key] for key in keys]
    return select(
        number(measure).label("measure"),
        dated.c.period if per_period else nothing().label("period"),
        *[dated.c[key] if key in keys else nothing().label(key) for key in KEYS],
        func.sum(dated.c.cents).label("cents"),
    ).group_by(*groups)


def _facts(periods, per_session):
    parts = [
        _sums(COLLECTED, collected_entries(), periods),
        _sums(REFUNDED, refunded_entries(), periods),
        _sums(TUTOR_COST, tutor_cost_entries(), periods, keys=KEYS if per_session else ()),
    ]
    if per_session:
        parts += [
            _sums(COLLECTED_SPLIT, collected_entries(by_session=True), periods, False, KEYS),
            _sums(REFUNDED_SPLIT, refunded_entries(by_session=True), periods, False, KEYS),
        ]
    return union_all(*parts).cte("facts")


def _per_period(facts):
    money = facts.c.measure.in_([number(m) for m in (COLLECTED, REFUNDED, TUTOR_COST)])
    return (
        select(
            number(PER_PERIOD).label("axis"),
            facts.c.measure,
            facts.c.period.label("key"),
            nothing(String).label("name"),
            func.sum(facts.c.cents),
        )
        .where(money)
        .group_by(facts.c.measure, facts.c.period)
    )


def _per_year(facts, periods):
    """Months added up by calendar year (a year's months all lie in the report's periods)."""
    money = facts.c.measure.in_([number(m) for m in (COLLECTED, REFUNDED, TUTOR_COST)])
    january = [i for i, p in enumerate(periods) if i and p.start.month == 1]
    yearly = select(facts.c.measure, index_of(facts.c.period, january).label("year"), facts.c.cents)
    yearly = yearly.where(money).subquery()
    return select(
        number(PER_YEAR).label("axis"),
        yearly.c.measure,
        yearly.c.year,
        nothing(String).label("name"),
        func.sum(yearly.c.cents),
    ).group_by(yearly.c.measure, yearly.c.year)


def _per_share(facts, axis, model, name):
    split = facts.c.measure.in_([number(m) for m in (TUTOR_COST, COLLECTED_SPLIT, REFUNDED_SPLIT)])
    key = facts.c.course_id if model is Course else facts.c.tutor_id
    return (
        select(number(axis).label("axis"), facts.c.measure, model.id, name, func.sum(facts.c.cents))
        .join(model, model.id == key)
        .where(split)
        .group_by(facts.c.measure, model.id, name)
    )


def _run(*selects):
    """{(axis, key): {Figures field: cents}} and {(axis, key): name} of one UNION ALL statement."""
    sums, names = {}, {}
    for axis, measure, key, name, cents in execute(union_all(*selects)):
        sums.setdefault((axis, key), {})[FIELDS[measure]] = int(cents or 0)
        names[(axis, key)] = name
    return sums, names


def revenue_series(periods):
    """Figures of each period, in order, zeros included."""
    if not periods:
        return []
    sums, _names = _run(_per_period(_facts(periods, per_session=False)))
    return [(period, Figures(**sums.get((PER_PERIOD, i), {}))) for i, period in enumerate(periods)]


def _shares(sums, names, axis, total):
    """Courses or tutors by net revenue; money no session accounts for (if any) as its own line."""
    shares = sorted(
        (Share(key, names[(kind, key)], Figures(**found)) for (kind, key), found in sums.items() if kind == axis),
        key=lambda share: (-share.figures.net_cents, share.name),
    )
    attributed = sum((share.figures for share in shares), Figures())
    rest = Figures(*(getattr(total, f) - getattr(attributed, f) for f in FIGURES_FIELDS))
    if rest != Figures():
        shares.append(Share(None, UNATTRIBUTED, rest))
    return shares


@dataclass(frozen=True)
class RevenueReport:
    """Everything the revenue page shows for local days `start` to `end` (both included)."""

    start: date
    end: date
    months: list = field(default_factory=list)
    years: list = field(default_factory=list)
    total: Figures = Figures()
    by_course: list = field(default_factory=list)
    by_tutor: list = field(default_factory=list)
    #: AttendanceIncome of no-shows, then late cancellations.
    attendance: list = field(default_factory=list)


def revenue_report(start, end):
    """Monthly and yearly series, totals, cumulative figures by course and by tutor, attendance income."""
    check_range(start, end)
    periods, calendar_years = months(start, end), years(start, end)
    facts = _facts(periods, per_session=True)
    sums, names = _run(
        _per_period(facts),
        _per_year(facts, periods),
        _per_share(facts, PER_COURSE, Course, Course.title),
        _per_share(facts, PER_TUTOR, Tutor, Tutor.display_name),
        *attendance_income.selects(periods, PER_ATTENDANCE, ATTENDANCE_MEASURES),
    )
    monthly = [(p, Figures(**sums.get((PER_PERIOD, i), {}))) for i, p in enumerate(periods)]
    yearly = [(p, Figures(**sums.get((PER_YEAR, i), {}))) for i, p in enumerate(calendar_years)]
    total = sum((figures for _period, figures in monthly), Figures())
    return RevenueReport(
        start=start,
        end=end,
        months=monthly,
        years=yearly,
        total=total,
        by_course=_shares(sums, names, PER_COURSE, total),
        by_tutor=_shares(sums, names, PER_TUTOR, total),
        attendance=attendance_income.lines(lambda i: sums.get((PER_ATTENDANCE, i), {})),
    )


def month_over_month(today):
    """(last month, this month) as (Period, Figures), whole local months."""
    this_month = today.replace(day=1)
    return revenue_series(months(add_months(this_month, -1), next_month(this_month) - timedelta(days=1)))

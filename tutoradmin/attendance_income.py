"""What no-shows and late cancellations bring in (SPEC §10): the revenue report's attendance breakdown.

For each kind of mark, over the report's range and by session date (like the tutor cost): how
many sessions still marked so (not cancelled since), what their students paid for them (price
less the coupon's share; the office's sessions without payment count 0), the credit given back
for them — the ledger lines attendance.py wrote for the session, so a correction that took part
of it back counts too — and what they pay their tutors (earnings.py). Income = paid − credit.
Refunds stay in the report's « remboursé », by refund date.
"""

from dataclasses import dataclass

from sqlalchemy import String, case, func, select

from . import credits, earnings
from .models import ATTENDANCE_LABELS, Appointment, Attendance, CreditEntry, OrderItem
from .report_sql import nothing, number

#: The marks whose income the report breaks down, in the order shown.
KINDS = (Attendance.NO_SHOW, Attendance.LATE_CANCEL)
#: The measures, as AttendanceIncome fields, in the order of `selects`.
FIELDS = ("sessions", "paid_cents", "credit_cents", "tutor_cost_cents")


@dataclass(frozen=True)
class AttendanceIncome:
    """What one kind of mark brought in over a period, in cents (a count of sessions)."""

    kind: str
    label: str
    sessions: int = 0
    paid_cents: int = 0
    credit_cents: int = 0
    tutor_cost_cents: int = 0

    @property
    def income_cents(self):
        return self.paid_cents - self.credit_cents

    @property
    def margin_cents(self):
        return self.income_cents - self.tutor_cost_cents


def total(lines):
    """The breakdown's total line."""
    return AttendanceIncome("", "Total", *(sum(getattr(line, name) for line in lines) for name in FIELDS))


def credit_given():
    """SQL subquery: the credit each session has given its student so far (the ledger lines naming it)."""
    return (
        select(CreditEntry.appointment_id, func.sum(credits.signed_cents()).label("cents"))
        .where(CreditEntry.appointment_id.is_not(None))
        .group_by(CreditEntry.appointment_id)
        .subquery("credit_given")
    )


def entries():
    """SELECT per no-show or late cancellation still payable: at, kind (index in KINDS), paid, credit, cost."""
    credit = credit_given()
    kind = case(*[(Appointment.attendance == k.value, i) for i, k in enumerate(KINDS)])
    return (
        earnings.sessions(
            Appointment.starts_at.label("at"),
            kind.label("kind"),
            func.coalesce(OrderItem.price_cents - OrderItem.discount_cents, 0).label("paid"),
            func.coalesce(credit.c.cents, 0).label("credit"),
            earnings.session_earnings().label("cost"),
        )
        .outerjoin(credit, credit.c.appointment_id == Appointment.id)
        .where(earnings.payable(), Appointment.attendance.in_([k.value for k in KINDS]))
    )


def selects(periods, axis, measures):
    """SELECTs of (axis, measure, kind, NULL name, value) over the whole of `periods`, for reports' UNION.

    `measures` maps each measure number to its field of FIELDS; one SELECT per measure reads a CTE
    of at most one row per kind.
    """
    rows = entries().subquery()
    sums = {
        "sessions": func.count(),
        "paid_cents": func.sum(rows.c.paid),
        "credit_cents": func.sum(rows.c.credit),
        "tutor_cost_cents": func.sum(rows.c.cost),
    }
    totals = (
        select(rows.c.kind, *[sums[name].label(name) for name in FIELDS])
        .where(rows.c.at >= periods[0].starts_at, rows.c.at < periods[-1].ends_at)
        .group_by(rows.c.kind)
        .cte("attendance_income")
    )
    return [
        select(
            number(axis).label("axis"),
            number(measure).label("measure"),
            totals.c.kind,
            nothing(String).label("name"),
            totals.c[name],
        )
        for measure, name in measures.items()
    ]


def lines(found):
    """AttendanceIncome of each kind, from `found(kind index)` → {field: value}."""
    return [AttendanceIncome(kind.value, ATTENDANCE_LABELS[kind], **found(i)) for i, kind in enumerate(KINDS)]

"""Tutor statements (SPEC §9, §10): a month's marked sessions, its totals, and the months of a tutor.

The rules of what counts and how a month is paid are in payouts.py; earnings.py computes the
money. A statement line shows the session's attendance mark and what it pays after the tutor's
share (« Absent — payé 100 % », « Annulation tardive — payée 50 % »).
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select

from . import earnings
from .extensions import db
from .localtime import add_months, month_is_over, month_of
from .models import (
    ATTENDANCE_LABELS,
    Appointment,
    AppointmentStatus,
    Attendance,
    Course,
    PayoutAdjustment,
    PayoutStatus,
    Tutor,
    TutorPayout,
)
from .models.dates import BUSINESS_YEARS
from .payouts import PayoutError, adjustments_where, find_payout, first_day, fit, pending_adjustments


def mark_label(attendance, share_percent):
    """« Présent », « Absent — payé 100 % », « Annulation tardive — payée 50 % »."""
    if attendance is None:
        return ""
    label = ATTENDANCE_LABELS.get(attendance, attendance)
    if attendance == Attendance.PRESENT:
        return label
    paid = "payé" if attendance == Attendance.NO_SHOW else "payée"
    return f"{label} — {paid} {share_percent} %"


@dataclass(frozen=True)
class SessionLine:
    appointment_id: int
    starts_at: datetime
    course: str
    duration_minutes: int
    earnings_cents: int
    # Cancelled by a refund after the month was paid (its earnings come back as an adjustment).
    refunded_after_payment: bool = False
    attendance: str | None = None
    share_percent: int | None = None
    # Its mark changed after the month was paid: the line shows what was paid, the difference is an adjustment
    # on a later statement.
    corrected_after_payment: bool = False

    @property
    def mark(self):
        return mark_label(self.attendance, self.share_percent)


@dataclass
class Statement:
    """One tutor's month: paid (the locked snapshot) or not (live, with what would be deducted)."""

    tutor: Tutor
    month: date
    sessions: list[SessionLine]
    minutes: int
    earnings_cents: int
    adjustments: list[PayoutAdjustment]
    payout: TutorPayout | None = None
    #: Pending adjustments that do not fit on this statement and wait for a later one.
    carried: list[PayoutAdjustment] = field(default_factory=list)
    #: Sessions of the month still scheduled (the month cannot be paid while there are some).
    scheduled_count: int = 0
    is_over: bool = False

    @property
    def is_paid(self):
        return self.payout is not None and self.payout.status == PayoutStatus.PAID

    @property
    def adjustments_cents(self):
        return sum(line.amount_cents for line in self.adjustments)

    @property
    def amount_cents(self):
        return self.earnings_cents + self.adjustments_cents


def _session_lines(tutor_id, start, payout=None):
    condition, corrected = earnings.payable(), {}
    if payout is not None:
        # A paid month keeps showing the sessions a later refund took back, and flags later corrections.
        taken_back = select(PayoutAdjustment.order_item_id).where(
            PayoutAdjustment.source_payout_id == payout.id,
            PayoutAdjustment.order_item_id.is_not(None),
        )
        condition = or_(condition, Appointment.order_item_id.in_(taken_back))
        # What later corrections changed, per session: the line shows what was paid (the snapshot's sum).
        corrected = dict(
            db.session.execute(
                select(PayoutAdjustment.appointment_id, func.sum(PayoutAdjustment.amount_cents))
                .where(PayoutAdjustment.source_payout_id == payout.id, PayoutAdjustment.appointment_id.is_not(None))
                .group_by(PayoutAdjustment.appointment_id)
            ).all()
        )
    rows = db.session.execute(
        earnings.sessions(
            Appointment.id,
            Appointment.starts_at,
            Course.title,
            Appointment.duration_minutes,
            earnings.session_earnings(),
            Appointment.status,
            Appointment.attendance,
            Appointment.tutor_share_percent,
        )
        .join(Course, Course.id == Appointment.course_id)
        .where(earnings.in_month(tutor_id, start), condition)
        .order_by(Appointment.starts_at, Appointment.id)
    )
    return [
        SessionLine(
            appointment_id=id_,
            starts_at=starts_at,
            course=title,
            duration_minutes=minutes,
            earnings_cents=cents - int(corrected.get(id_, 0)),
            refunded_after_payment=status != AppointmentStatus.COMPLETED,
            attendance=attendance,
            share_percent=share,
            corrected_after_payment=id_ in corrected,
        )
        for id_, starts_at, title, minutes, cents, status, attendance, share in rows
    ]


def statement(tutor, year, month, now):
    """The statement of `tutor` for a local month, as it stands at `now`."""
    start = first_day(year, month)
    payout = find_payout(tutor.id, start)
    is_over = month_is_over(start, now)
    if payout is not None and payout.status == PayoutStatus.PAID:
        return Statement(
            tutor=tutor,
            month=start,
            sessions=_session_lines(tutor.id, start, payout),
            minutes=payout.minutes,
            earnings_cents=payout.earnings_cents,
            adjustments=adjustments_where(PayoutAdjustment.applied_payout_id == payout.id),
            payout=payout,
            is_over=is_over,
        )
    minutes, earned_cents = earnings.month_total(tutor.id, start)
    applied, carried = fit(earned_cents, pending_adjustments(tutor.id))
    return Statement(
        tutor=tutor,
        month=start,
        sessions=_session_lines(tutor.id, start),
        minutes=minutes,
        earnings_cents=earned_cents,
        adjustments=applied,
        carried=carried,
        payout=payout,
        scheduled_count=earnings.scheduled_count(tutor.id, start),
        is_over=is_over,
    )


# --- a tutor's months --------------------------------------------------------------------


@dataclass(frozen=True)
class MonthLine:
    """A tutor's hours and earnings for one month (the paid snapshot once the month is paid)."""

    month: date
    minutes: int
    earnings_cents: int
    payout: TutorPayout | None

    @property
    def is_paid(self):
        return self.payout is not None and self.payout.status == PayoutStatus.PAID


def _payouts_by_key(condition):
    payouts = db.session.scalars(select(TutorPayout).where(condition)).all()
    return {(p.tutor_id, date(p.year, p.month, 1)): p for p in payouts}


def _month_line(month, totals, payout):
    if payout is not None and payout.status == PayoutStatus.PAID:
        return MonthLine(month, payout.minutes, payout.earnings_cents, payout)
    minutes, cents = totals or (0, 0)
    return MonthLine(month, minutes, cents, payout)


def month_lines(tutor, months):
    """The tutor's MonthLine for each of `months` (first days, ascending), in two queries."""
    totals = earnings.month_totals([tutor.id], months)
    payouts = _payouts_by_key(TutorPayout.tutor_id == tutor.id)
    return [_month_line(m, totals.get((tutor.id, m)), payouts.get((tutor.id, m))) for m in months]


def months_of(tutor, now, count=12):
    """The tutor's last `count` months, the current one first: hours, earnings, payment."""
    current = month_of(now)
    return list(reversed(month_lines(tutor, [add_months(current, i) for i in range(1 - count, 1)])))


@dataclass(frozen=True)
class YearSummary:
    """A calendar year of a tutor's months (January first), for taxes: hours and earnings per month."""

    year: int
    months: list[MonthLine]

    @property
    def minutes(self):
        return sum(line.minutes for line in self.months)

    @property
    def earnings_cents(self):
        return sum(line.earnings_cents for line in self.months)


def year_of(tutor, year):
    """The tutor's twelve months of a calendar year (a year the statements can hold)."""
    if isinstance(year, bool) or not isinstance(year, int) or year not in BUSINESS_YEARS:
        raise PayoutError(
            f"Année invalide : choisissez une année entre {BUSINESS_YEARS.start} et {BUSINESS_YEARS.stop - 1}."
        )
    return YearSummary(year, month_lines(tutor, [date(year, month, 1) for month in range(1, 13)]))


def recent_years(current_month, count=5):
    """The calendar years a tutor picks a summary from: the current one and the ones before it."""
    return [y for y in range(current_month.year - count + 1, current_month.year + 1) if y in BUSINESS_YEARS]


def month_overview(year, month):
    """(tutor, MonthLine) for every tutor with sessions or a statement in a month."""
    start = first_day(year, month)
    payouts = _payouts_by_key(and_(TutorPayout.year == year, TutorPayout.month == month))
    tutors = db.session.scalars(select(Tutor).order_by(Tutor.display_name, Tutor.id)).all()
    totals = earnings.month_totals([t.id for t in tutors], [start])
    return [
        (tutor, _month_line(start, totals.get(key), payouts.get(key)))
        for tutor in tutors
        if (key := (tutor.id, start)) in totals or key in payouts
    ]

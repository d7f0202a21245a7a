"""Attendance marks flowing to the tutor's statement, the student's credit and revenue, worked out by hand.

Tutor rate 40 $/h, course 60 $/h; one student; every session lasts 60 minutes and earns 40,00 $ at full rate.

| month | session | price | coupon | mark (policy) | tutor | credit |
|---|---|---|---|---|---|---|
| March | 2 March | 60,00 | — | présent | 40,00 | 0 |
| March | 9 March | 60,00 | — | absent (default: tutor 100 %, credit 0 %) | 40,00 | 0 |
| March | 16 March | 60,00 | 10,00 | annulation tardive (default: 50 %, 50 %) | 20,00 | 25,00 |
| March | 23 March | 60,00 | — | présent | 40,00 | 0 |

March statement: 40 + 40 + 20 + 40 = 140,00 $. Then the policy becomes: absent → tutor 75 %, credit
10 %; annulation tardive → tutor 25 %, credit 80 %. April, marked under it: présent 40,00; absent
30,00 (credit 6,00); annulation tardive 10,00 (credit 48,00) → 80,00 $. After March is paid, the office
corrects the 9 March absence into an annulation tardive (new policy): 40,00 → 10,00, an adjustment of
−30,00 $ on April's statement (80,00 − 30,00 = 50,00 $ paid) and 48,00 $ of credit to the student.
"""

from datetime import UTC, date, datetime

import pytest

from tutoradmin import attendance, reports
from tutoradmin.localtime import LOCAL_TZ
from tutoradmin.models import CreditEntry, PayoutAdjustment
from tutoradmin.payouts import mark_paid
from tutoradmin.statements import statement

from .test_reports import paid_order

NOW = datetime(2026, 4, 10, 15, 0, tzinfo=UTC)
MARCH, APRIL = (date(2026, 3, 1), date(2026, 3, 31)), (date(2026, 4, 1), date(2026, 4, 30))
NEW_POLICY = {
    "late_cancel_window_hours": 24,
    "late_cancel_credit_percent": 80,
    "no_show_credit_percent": 10,
    "late_cancel_tutor_percent": 25,
    "no_show_tutor_percent": 75,
}


def local(*args):
    return datetime(*args, tzinfo=LOCAL_TZ).astimezone(UTC)


@pytest.fixture
def school(db, make):
    course = make.course(title="Chimie", rate_cents=6000)
    tutor = make.tutor(display_name="Tutrice T", hourly_rate_cents=4000, courses=[course])
    return {
        "course": course,
        "tutor": tutor,
        "student": make.user(),
        "admin": make.user(role="admin"),
        "staff": make.user(role="staff"),
    }


def _book(db, make, school, paid_at, days, discounts, number):
    """An order of one-hour sessions at 10:00 local on `days` (year, month, day), with their appointments."""
    lines = [(school["course"], school["tutor"], 60, local(*day, 10)) for day in days]
    order = paid_order(db, school["student"], paid_at, lines, discount=discounts, number=number)
    return [
        make.appointment(
            student=school["student"],
            tutor=school["tutor"],
            course=school["course"],
            starts_at=item.starts_at,
            order_item=item,
        )
        for item in order.items
    ]


def _mark_all(school, sessions, kinds, now=NOW):
    for session, kind in zip(sessions, kinds, strict=True):
        attendance.mark(session, school["tutor"].user, kind, "", now)


@pytest.fixture
def march(db, make, school):
    sessions = _book(
        db,
        make,
        school,
        local(2026, 3, 1, 12),
        [(2026, 3, 2), (2026, 3, 9), (2026, 3, 16), (2026, 3, 23)],
        (0, 0, 1000, 0),
        number=901,
    )
    _mark_all(school, sessions, ["present", "no_show", "late_cancel", "present"])
    db.session.flush()
    return sessions


def _april(db, make, school):
    attendance.change_policy(school["admin"], NEW_POLICY, NOW)
    sessions = _book(
        db, make, school, local(2026, 4, 1, 12), [(2026, 4, 2), (2026, 4, 3), (2026, 4, 6)], (), number=902
    )
    _mark_all(school, sessions, ["present", "no_show", "late_cancel"])
    db.session.flush()
    return sessions


def _breakdown(report):
    return {
        line.kind: (line.sessions, line.paid_cents, line.credit_cents, line.income_cents, line.tutor_cost_cents)
        for line in report.attendance
    }


def _credits(school):
    return sorted(
        entry.signed_cents
        for entry in CreditEntry.query.filter_by(user_id=school["student"].id)
        if entry.appointment_id is not None
    )


def test_the_statement_pays_each_mark_its_share(school, march):
    result = statement(school["tutor"], 2026, 3, NOW)

    assert [line.earnings_cents for line in result.sessions] == [4000, 4000, 2000, 4000]
    assert [line.mark for line in result.sessions] == [
        "Présent",
        "Absent — payé 100 %",
        "Annulation tardive — payée 50 %",
        "Présent",
    ]
    assert (result.minutes, result.earnings_cents, result.amount_cents) == (240, 14000, 14000)
    # The late cancellation gave back half of what was paid for it (60,00 − 10,00 of coupon).
    assert _credits(school) == [2500]


def test_revenue_counts_the_tutor_cost_and_what_absences_brought_in(school, march):
    report = reports.revenue_report(*MARCH)

    assert (report.total.collected_cents, report.total.tutor_cost_cents, report.total.margin_cents) == (
        23000,
        14000,
        9000,
    )
    assert _breakdown(report) == {
        "no_show": (1, 6000, 0, 6000, 4000),
        "late_cancel": (1, 5000, 2500, 2500, 2000),
    }


def test_a_policy_change_applies_to_sessions_marked_afterwards_only(db, make, school, march):
    _april(db, make, school)

    april = statement(school["tutor"], 2026, 4, NOW)
    assert [line.earnings_cents for line in april.sessions] == [4000, 3000, 1000]
    assert [line.mark for line in april.sessions][1:] == ["Absent — payé 75 %", "Annulation tardive — payée 25 %"]
    assert april.earnings_cents == 8000
    assert statement(school["tutor"], 2026, 3, NOW).earnings_cents == 14000
    assert _credits(school) == [600, 2500, 4800]
    assert _breakdown(reports.revenue_report(*APRIL)) == {
        "no_show": (1, 6000, 600, 5400, 3000),
        "late_cancel": (1, 6000, 4800, 1200, 1000),
    }
    assert reports.revenue_report(*APRIL).total.tutor_cost_cents == 8000


def test_a_correction_after_payment_is_an_adjustment_on_the_next_statement(db, make, school, march):
    paid = mark_paid(school["tutor"], 2026, 3, "VIR-0301", date(2026, 4, 5), school["admin"], NOW)
    assert paid.amount_cents == 14000
    _april(db, make, school)

    attendance.mark(march[1], school["staff"], "late_cancel", "Appel reçu 2 h avant", NOW)
    db.session.flush()

    adjustment = db.session.query(PayoutAdjustment).one()
    assert (adjustment.amount_cents, adjustment.appointment_id) == (-3000, march[1].id)
    # The paid month keeps what was paid, and shows which session changed since.
    march_statement = statement(school["tutor"], 2026, 3, NOW)
    assert (march_statement.earnings_cents, march_statement.amount_cents) == (14000, 14000)
    assert [line.corrected_after_payment for line in march_statement.sessions] == [False, True, False, False]
    assert march_statement.sessions[1].mark == "Annulation tardive — payée 25 %"
    # Its lines still add up to what was paid: the corrected one shows the 40,00 $ paid, not the 10,00 $ of now.
    assert [line.earnings_cents for line in march_statement.sessions] == [4000, 4000, 2000, 4000]
    april = statement(school["tutor"], 2026, 4, NOW)
    assert [(a.amount_cents, a.reason) for a in april.adjustments] == [(-3000, adjustment.reason)]
    assert "Présence corrigée" in adjustment.reason
    assert (april.earnings_cents, april.adjustments_cents, april.amount_cents) == (8000, -3000, 5000)
    later = datetime(2026, 5, 4, 15, 0, tzinfo=UTC)
    assert (
        mark_paid(school["tutor"], 2026, 4, "VIR-0401", date(2026, 5, 4), school["admin"], later).amount_cents == 5000
    )
    # Revenue follows the session's mark by session date: March's tutor cost is now 40 + 10 + 20 + 40.
    report = reports.revenue_report(*MARCH)
    assert report.total.tutor_cost_cents == 11000
    assert _breakdown(report) == {
        "no_show": (0, 0, 0, 0, 0),
        "late_cancel": (2, 11000, 7300, 3700, 3000),
    }

"""Tutor statements: what counts, the arithmetic, payment and its lock, late refunds, completion."""

from datetime import UTC, date, datetime, timedelta

import pytest

from tutoradmin.localtime import LOCAL_TZ
from tutoradmin.models import (
    AuditLog,
    OrderItem,
    PayoutAdjustment,
    TutorPayout,
)
from tutoradmin.payouts import PayoutError, mark_paid, record_refund_adjustment
from tutoradmin.statements import month_overview, months_of, statement

# Mid-April 2026: March is over and payable; DST began on March 8.
NOW = datetime(2026, 4, 10, 15, 0, tzinfo=UTC)


def local(*args):
    return datetime(*args, tzinfo=LOCAL_TZ).astimezone(UTC)


@pytest.fixture
def tutor(make):
    return make.tutor(hourly_rate_cents=2500)


@pytest.fixture
def course(make, tutor):
    course = make.course(title="Calcul I", rate_cents=4500)
    tutor.courses.append(course)
    return course


@pytest.fixture
def admin(make):
    return make.user(role="admin")


@pytest.fixture
def add_session(db, make, tutor, course):
    """A paid session of `tutor` starting at a local time; completed unless told otherwise."""

    def _session(start, minutes=60, status="completed", earnings=None, paid=True, who=None):
        who = who or tutor
        item = None
        if paid:
            order = make.order(items=0, course=course, tutor=who)
            item = OrderItem(
                course=course,
                tutor=who,
                starts_at=start,
                ends_at=start + timedelta(minutes=minutes),
                duration_minutes=minutes,
                price_cents=4500 * minutes // 60,
                tutor_earnings_cents=who.hourly_rate_cents * minutes // 60 if earnings is None else earnings,
            )
            order.items.append(item)
        appointment = make.appointment(
            tutor=who,
            course=course,
            starts_at=start,
            duration_minutes=minutes,
            status=status,
            order_item=item,
            cancelled_at=start - timedelta(days=1) if status == "cancelled" else None,
        )
        db.session.flush()
        return appointment

    return _session


@pytest.fixture
def march(add_session):
    """March 2026: 60 + 90 + 120 completed minutes, one cancelled session."""
    return [
        add_session(local(2026, 3, 2, 10)),  # 25,00 $
        add_session(local(2026, 3, 10, 14), minutes=90),  # 37,50 $
        add_session(local(2026, 3, 20, 9), minutes=120),  # 50,00 $
        add_session(local(2026, 3, 25, 9), status="cancelled"),
    ]


def _pay(tutor, admin, year=2026, month=3, confirmation="VIR-0001", paid_on=date(2026, 4, 5)):
    return mark_paid(tutor, year, month, confirmation, paid_on, admin, NOW)


# --- what a statement holds ----------------------------------------------------------------


def test_a_statement_sums_the_completed_sessions_of_the_month(tutor, march):
    result = statement(tutor, 2026, 3, NOW)

    assert [line.appointment_id for line in result.sessions] == [a.id for a in march[:3]]
    assert [line.earnings_cents for line in result.sessions] == [2500, 3750, 5000]
    assert [line.course for line in result.sessions] == ["Calcul I"] * 3
    assert (result.minutes, result.earnings_cents) == (270, 11250)
    assert (result.adjustments, result.amount_cents) == ([], 11250)
    assert result.is_over and not result.is_paid and result.scheduled_count == 0


def test_cancelled_and_scheduled_sessions_are_left_out_of_the_totals(tutor, add_session):
    add_session(local(2026, 3, 3, 10), minutes=90)
    add_session(local(2026, 3, 4, 10), status="cancelled")
    add_session(local(2026, 3, 5, 10), status="scheduled")

    result = statement(tutor, 2026, 3, NOW)

    assert (len(result.sessions), result.minutes, result.earnings_cents) == (1, 90, 3750)
    assert result.scheduled_count == 1


def test_sessions_belong_to_the_month_of_their_local_start(tutor, add_session):
    # Local midnight is 05:00 UTC in winter (EST) and 04:00 UTC in spring (EDT).
    february_last = add_session(local(2026, 2, 28, 23, 0))  # 1 March 04:00 UTC
    march_first = add_session(local(2026, 3, 1, 0, 0))  # 1 March 05:00 UTC
    march_last = add_session(local(2026, 3, 31, 22, 30), minutes=90)  # 1 April 02:30 UTC
    april_first = add_session(local(2026, 4, 1, 0, 0))  # 1 April 04:00 UTC

    def ids(month):
        return [line.appointment_id for line in statement(tutor, 2026, month, NOW).sessions]

    assert ids(2) == [february_last.id]
    assert ids(3) == [march_first.id, march_last.id]
    assert ids(4) == [april_first.id]
    assert statement(tutor, 2026, 3, NOW).earnings_cents == 2500 + 3750


def test_a_session_without_payment_earns_the_tutors_rate_rounded_to_the_cent(make, add_session):
    tutor = make.tutor(hourly_rate_cents=2525)
    add_session(local(2026, 3, 9, 10), minutes=90, paid=False, who=tutor)  # 37,875 → 37,88 $
    add_session(local(2026, 3, 9, 13), minutes=60, paid=False, who=tutor)  # 25,25 $

    result = statement(tutor, 2026, 3, NOW)

    assert [line.earnings_cents for line in result.sessions] == [3788, 2525]
    assert (result.minutes, result.earnings_cents) == (150, 6313)


def test_the_earnings_recorded_at_booking_win_over_a_later_rate_change(tutor, add_session):
    add_session(local(2026, 3, 9, 10), minutes=90, earnings=3600)
    tutor.hourly_rate_cents = 9000

    assert statement(tutor, 2026, 3, NOW).earnings_cents == 3600


def test_another_tutors_sessions_stay_on_their_own_statement(make, tutor, add_session, march):
    colleague = make.tutor(hourly_rate_cents=3000)
    add_session(local(2026, 3, 2, 13), who=colleague)

    assert statement(tutor, 2026, 3, NOW).earnings_cents == 11250
    assert statement(colleague, 2026, 3, NOW).earnings_cents == 3000
    overview = {tutor.id: line.earnings_cents for tutor, line in month_overview(2026, 3)}
    assert overview == {tutor.id: 11250, colleague.id: 3000}


def test_a_tutor_sees_twelve_months_with_the_current_one_first(tutor, add_session, march, admin):
    add_session(local(2026, 4, 2, 10), minutes=120)
    _pay(tutor, admin)

    lines = months_of(tutor, NOW)

    assert len(lines) == 12
    assert [line.month for line in lines[:3]] == [date(2026, 4, 1), date(2026, 3, 1), date(2026, 2, 1)]
    assert (lines[0].minutes, lines[0].earnings_cents, lines[0].is_paid) == (120, 5000, False)
    assert (lines[1].minutes, lines[1].earnings_cents, lines[1].is_paid) == (270, 11250, True)
    assert lines[-1].month == date(2025, 5, 1)


# --- paying a month ------------------------------------------------------------------------


def test_marking_a_month_paid_keeps_a_snapshot_and_audits_it(db, tutor, admin, march):
    payout = _pay(tutor, admin, confirmation="  VIR-2026-03  ")
    db.session.commit()

    db.session.expire_all()
    payout = db.session.get(TutorPayout, payout.id)
    assert (payout.year, payout.month, payout.status) == (2026, 3, "paid")
    assert (payout.minutes, payout.earnings_cents, payout.adjustments_cents, payout.amount_cents) == (
        270,
        11250,
        0,
        11250,
    )
    assert payout.confirmation_number == "VIR-2026-03"
    assert payout.paid_at.astimezone(LOCAL_TZ).date() == date(2026, 4, 5)
    assert payout.paid_by_id == admin.id
    log = db.session.query(AuditLog).one()
    assert (log.action, log.actor_id, log.target_id) == ("payout.paid", admin.id, payout.id)
    assert log.after["amount_cents"] == 11250


def test_a_pending_statement_row_is_completed_rather_than_duplicated(db, tutor, admin, march):
    db.session.add(
        TutorPayout(tutor_id=tutor.id, year=2026, month=3, minutes=60, earnings_cents=2500, amount_cents=2500)
    )
    db.session.flush()

    _pay(tutor, admin)

    payout = db.session.query(TutorPayout).one()
    assert (payout.status, payout.amount_cents) == ("paid", 11250)


def test_a_paid_month_is_locked(db, tutor, admin, march, add_session):
    _pay(tutor, admin)
    # A session added to the month afterwards does not change what was paid.
    add_session(local(2026, 3, 28, 10))

    with pytest.raises(PayoutError, match=r"déjà payé.*VIR-0001"):
        _pay(tutor, admin, confirmation="VIR-0002")

    result = statement(tutor, 2026, 3, NOW)
    assert result.is_paid
    assert (result.minutes, result.earnings_cents, result.amount_cents) == (270, 11250, 11250)
    assert db.session.query(TutorPayout).one().confirmation_number == "VIR-0001"


@pytest.mark.parametrize(
    "change, message",
    [
        ({"confirmation": "   "}, "numéro de confirmation"),
        ({"confirmation": "X" * 101}, "100 caractères"),
        ({"month": 4, "paid_on": date(2026, 4, 10)}, r"Ce mois n'est pas terminé \(avril 2026\)"),
        ({"paid_on": date(2026, 4, 11)}, "dans le futur"),
        ({"paid_on": date(2026, 3, 31)}, "suivre la fin du mois"),
        ({"paid_on": None}, "date du paiement"),
        ({"paid_on": "2026-04-05"}, "date du paiement"),
        ({"month": 13}, "Mois invalide"),
        ({"month": 2}, "Aucune séance terminée en février 2026"),
    ],
)
def test_bad_payment_input_is_refused_in_french_and_writes_nothing(db, tutor, admin, march, change, message):
    args = {"month": 3, "confirmation": "VIR-1", "paid_on": date(2026, 4, 5), **change}

    with pytest.raises(PayoutError, match=message):
        _pay(tutor, admin, **args)

    assert db.session.query(TutorPayout).count() == 0
    assert db.session.query(AuditLog).count() == 0


def test_a_month_with_a_session_still_scheduled_cannot_be_paid(db, tutor, admin, march, add_session):
    add_session(local(2026, 3, 31, 22), status="scheduled")

    with pytest.raises(PayoutError, match=r"1 séance.*encore planifiées"):
        _pay(tutor, admin)

    assert db.session.query(TutorPayout).count() == 0


# --- refunds after payment -----------------------------------------------------------------


def _refund(db, appointment, now=NOW):
    """What the refund module does: cancel the add_session, then ask for the adjustment."""
    appointment.status, appointment.cancelled_at = "cancelled", now
    db.session.flush()
    return record_refund_adjustment(
        appointment.order_item, appointment.order_item.tutor_earnings_cents, "Tuteur absent", now
    )


def test_a_late_refund_is_deducted_once_from_the_next_statement(db, tutor, admin, march, add_session):
    _pay(tutor, admin)
    add_session(local(2026, 4, 7, 10), minutes=120)  # April: 50,00 $
    refunded = march[1]  # 90 min, 37,50 $

    adjustment = _refund(db, refunded)

    assert (adjustment.amount_cents, adjustment.tutor_id) == (-3750, tutor.id)
    assert "remboursée après paiement" in adjustment.reason and "Tuteur absent" in adjustment.reason
    # The paid month is unchanged and still lists the add_session, marked as taken back.
    paid = statement(tutor, 2026, 3, NOW)
    assert (paid.earnings_cents, paid.amount_cents, paid.adjustments) == (11250, 11250, [])
    assert [line.refunded_after_payment for line in paid.sessions] == [False, True, False]
    # April carries it, and asking again does not add a second one.
    assert record_refund_adjustment(refunded.order_item, 3750, "Encore", NOW) is adjustment
    april = statement(tutor, 2026, 4, NOW + timedelta(days=30))
    assert [line.amount_cents for line in april.adjustments] == [-3750]
    assert (april.earnings_cents, april.amount_cents) == (5000, 1250)

    payout = mark_paid(tutor, 2026, 4, "VIR-0002", date(2026, 5, 4), admin, NOW + timedelta(days=30))

    assert (payout.earnings_cents, payout.adjustments_cents, payout.amount_cents) == (5000, -3750, 1250)
    assert adjustment.applied_payout_id == payout.id
    assert statement(tutor, 2026, 4, NOW + timedelta(days=30)).adjustments[0].id == adjustment.id
    may = statement(tutor, 2026, 5, NOW + timedelta(days=60))
    assert may.adjustments == [] and may.carried == []


def test_a_refund_in_a_month_not_yet_paid_simply_drops_the_session(db, tutor, admin, march):
    assert _refund(db, march[0]) is None

    assert db.session.query(PayoutAdjustment).count() == 0
    assert statement(tutor, 2026, 3, NOW).earnings_cents == 11250 - 2500
    assert _pay(tutor, admin).amount_cents == 8750


def test_a_session_cancelled_before_the_month_was_paid_takes_nothing_back(db, tutor, admin, march):
    _pay(tutor, admin)
    cancelled = march[3]
    assert record_refund_adjustment(cancelled.order_item, None, "Remboursement", NOW) is None
    assert db.session.query(PayoutAdjustment).count() == 0


def test_an_adjustment_larger_than_a_statement_waits_for_a_later_one(db, tutor, admin, march, add_session):
    _pay(tutor, admin)
    add_session(local(2026, 4, 7, 10))  # April: 25,00 $
    adjustment = _refund(db, march[2])  # −50,00 $
    later = NOW + timedelta(days=30)

    april = statement(tutor, 2026, 4, later)
    assert april.adjustments == [] and [a.id for a in april.carried] == [adjustment.id]
    assert mark_paid(tutor, 2026, 4, "VIR-0002", date(2026, 5, 4), admin, later).amount_cents == 2500
    assert adjustment.applied_payout_id is None

    add_session(local(2026, 5, 5, 10), minutes=120)
    add_session(local(2026, 5, 6, 10), minutes=120)  # May: 100,00 $
    may = statement(tutor, 2026, 5, NOW + timedelta(days=60))
    assert [a.id for a in may.adjustments] == [adjustment.id]
    assert may.amount_cents == 5000


@pytest.mark.parametrize("amount", [0, -100, 3751, 37.5, "3750"])
def test_an_adjustment_takes_back_at_most_the_sessions_tutor_earnings(db, tutor, admin, march, amount):
    _pay(tutor, admin)
    item = march[1].order_item

    with pytest.raises(PayoutError, match="Montant d'ajustement invalide"):
        record_refund_adjustment(item, amount, "Erreur", NOW)

    assert db.session.query(PayoutAdjustment).count() == 0


def test_an_adjustment_needs_a_reason(tutor, admin, march):
    _pay(tutor, admin)
    with pytest.raises(PayoutError, match="motif"):
        record_refund_adjustment(march[1].order_item, 3750, "  ", NOW)


# --- attendance marks ----------------------------------------------------------------------


def _mark(appointment, kind, tutor_percent, credit_percent=0):
    appointment.attendance, appointment.tutor_share_percent = kind, tutor_percent
    appointment.student_credit_percent = credit_percent
    return appointment


@pytest.mark.parametrize(
    "percent, expected",
    # 25,25 $ × share, rounded half up to the cent by the database, the same on SQLite and PostgreSQL.
    [(100, 2525), (50, 1263), (33, 833), (67, 1692), (1, 25), (0, 0)],
)
def test_a_marked_session_earns_its_share_rounded_half_up_to_the_cent(db, tutor, add_session, percent, expected):
    _mark(add_session(local(2026, 3, 9, 10), earnings=2525), "late_cancel", percent)
    db.session.flush()

    result = statement(tutor, 2026, 3, NOW)

    assert [line.earnings_cents for line in result.sessions] == [expected]
    assert result.earnings_cents == expected
    assert months_of(tutor, NOW)[1].earnings_cents == expected
    assert {t.id: line.earnings_cents for t, line in month_overview(2026, 3)} == {tutor.id: expected}


def test_statement_lines_name_each_mark_and_its_share(db, tutor, add_session):
    add_session(local(2026, 3, 2, 10))
    _mark(add_session(local(2026, 3, 3, 10)), "no_show", 100)
    _mark(add_session(local(2026, 3, 4, 10), minutes=90), "late_cancel", 50, 50)
    db.session.flush()

    result = statement(tutor, 2026, 3, NOW)

    assert [(line.mark, line.earnings_cents) for line in result.sessions] == [
        ("Présent", 2500),
        ("Absent — payé 100 %", 2500),
        ("Annulation tardive — payée 50 %", 1875),
    ]
    assert (result.minutes, result.earnings_cents) == (210, 6875)


def test_a_late_refund_of_a_late_cancellation_takes_back_what_it_paid(db, tutor, admin, march):
    _mark(march[0], "late_cancel", 50, 50)
    db.session.flush()
    assert _pay(tutor, admin).earnings_cents == 11250 - 1250

    march[0].status, march[0].cancelled_at = "cancelled", NOW
    db.session.flush()
    # As appointments.cancel asks for it: all of what the session earned, after its share.
    adjustment = record_refund_adjustment(march[0].order_item, None, "Remboursement", NOW)

    assert adjustment.amount_cents == -1250

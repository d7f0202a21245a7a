"""Back-office forms submitted twice at once on PostgreSQL: each change is applied once."""

import threading
import time
from datetime import UTC, timedelta

import pytest
from sqlalchemy import func, select

from tutoradmin import appointments, credits, payouts
from tutoradmin.localtime import to_local
from tutoradmin.models import (
    Appointment,
    CreditEntry,
    CreditKind,
    PayoutAdjustment,
    Role,
    Tutor,
    TutorPayout,
    User,
    utcnow,
)

from .races import logged_in, race
from .shopping import count

CLICKS = 4
# Concurrency needs PostgreSQL's row locks: skipped on SQLite.
pytestmark = pytest.mark.usefixtures("pg_engine")


def test_a_cancellation_submitted_several_times_at_once_credits_the_student_once(app, db, make, quiet):
    staff = make.user(role=Role.STAFF)
    item = make.booked_order(items=1).items[0]
    appointment_id, student_id, paid = item.appointment.id, item.order.user_id, item.paid_cents
    db.session.commit()
    clients = [logged_in(app, staff) for _ in range(CLICKS)]
    quiet()

    results = race(
        [
            lambda c=c: c.post(f"/admin/rendez-vous/annuler/{appointment_id}", data={"reason": "Tuteur malade"})
            for c in clients
        ]
    )

    # The others see it cancelled: the form again (400) or, once committed, the list (302).
    assert {r.status_code for r in results} <= {302, 400}, results
    assert count(db, CreditEntry) == 1
    assert credits.balance_cents(student_id) == paid


def test_a_debit_submitted_several_times_at_once_never_takes_the_balance_below_zero(app, db, make, quiet):
    staff, student = make.user(role=Role.STAFF), make.user()
    credits.add_entry(student.id, CreditKind.CREDIT, 2000, "Annulation", utcnow())
    student_id = student.id
    db.session.commit()
    clients = [logged_in(app, staff) for _ in range(CLICKS)]
    quiet()

    results = race(
        [
            lambda c=c: c.post(
                f"/admin/etudiants/credit/{student_id}",
                data={"direction": "debit", "amount": "20", "reason": "Remboursé en argent"},
            )
            for c in clients
        ]
    )

    assert sorted(r.status_code for r in results) == [302] + [400] * (CLICKS - 1), results
    assert credits.balance_cents(student_id) == 0
    assert count(db, CreditEntry, CreditEntry.kind == CreditKind.DEBIT) == 1


def test_a_session_cancelled_while_its_month_is_being_paid_is_either_left_out_or_taken_back(app, db, make, quiet):
    now = utcnow()
    last_month = (to_local(now).replace(day=1) - timedelta(days=1)).replace(
        day=10, hour=10, minute=0, second=0, microsecond=0
    )
    staff, admin = make.user(role=Role.STAFF), make.user(role=Role.ADMIN)
    order = make.booked_order(items=2, first_start=last_month.astimezone(UTC))
    cancelled, kept = order.items
    for item in order.items:
        make.complete(item.appointment)
    tutor_id, kept_earnings, cancelled_id = kept.tutor_id, kept.tutor_earnings_cents, cancelled.appointment.id
    staff_id, admin_id = staff.id, admin.id
    quiet()
    appointments.cancel(
        db.session.get(Appointment, cancelled_id), "Séance contestée", db.session.get(User, staff_id), now
    )  # not committed yet
    outcome = []

    def pay_the_month():
        with app.app_context():
            payouts.mark_paid(
                db.session.get(Tutor, tutor_id),
                last_month.year,
                last_month.month,
                "VIR-1",
                now,
                db.session.get(User, admin_id),
                now,
            )
            db.session.commit()
            outcome.append("paid")

    paying = threading.Thread(target=lambda: outcome.extend(r for r in race([pay_the_month]) if r))
    paying.start()
    time.sleep(0.5)  # the payment is now reading the month
    db.session.commit()
    paying.join(timeout=30)

    assert outcome == ["paid"], outcome
    payout = db.session.scalar(select(TutorPayout))
    taken_back = db.session.scalar(select(func.coalesce(func.sum(PayoutAdjustment.amount_cents), 0)))
    assert payout.earnings_cents + taken_back == kept_earnings

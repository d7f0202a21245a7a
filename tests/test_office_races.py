"""Back-office forms submitted twice at once on PostgreSQL: each change is applied once."""

import pytest

from tutoradmin import credits
from tutoradmin.models import CreditEntry, CreditKind, Role, utcnow

from .shopping import count
from .test_checkout_race import logged_in, quiet, race  # noqa: F401  (quiet is a fixture)

CLICKS = 4


@pytest.fixture(autouse=True)
def postgres_only(pg_engine):
    """Concurrency needs PostgreSQL's row locks; skipped on SQLite."""


def test_a_cancellation_submitted_several_times_at_once_credits_the_student_once(app, db, make, quiet):
    staff = make.user(role=Role.STAFF)
    item = make.booked_order(items=1).items[0]
    appointment_id, student_id, paid = item.appointment.id, item.order.user_id, item.paid_cents
    db.session.commit()
    clients = [logged_in(app, staff) for _ in range(CLICKS)]
    quiet()

    results = race([
        lambda c=c: c.post(f"/admin/rendez-vous/annuler/{appointment_id}", data={"reason": "Tuteur malade"})
        for c in clients
    ])

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

    results = race([
        lambda c=c: c.post(f"/admin/etudiants/credit/{student_id}",
                           data={"direction": "debit", "amount": "20", "reason": "Remboursé en argent"})
        for c in clients
    ])

    assert sorted(r.status_code for r in results) == [302] + [400] * (CLICKS - 1), results
    assert credits.balance_cents(student_id) == 0
    assert count(db, CreditEntry, CreditEntry.kind == CreditKind.DEBIT) == 1

"""Double booking has two independent guards, a paid session always owns all its time, and
`flask check-integrity` finds every broken invariant."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.exc import IntegrityError

from tutoradmin import credits
from tutoradmin.appointments import TUTOR_BUSY, AppointmentError, book_without_payment
from tutoradmin.checkout import start_checkout
from tutoradmin.fulfilment import SLOT_LOST, payment_succeeded
from tutoradmin.integrity import CHECKS, broken_invariants
from tutoradmin.models import (
    Appointment,
    CartItem,
    CreditKind,
    Hold,
    Refund,
    RefundItem,
    SlotLock,
    utcnow,
)
from tutoradmin.models.appointments import SQLITE_NO_OVERLAP_TRIGGERS
from tutoradmin.occupancy import occupy

from .shopping import billing, count, fill, new_cart

# The database's overlap guard


def _session(make, tutor, start, minutes=60, **fields):
    return make.appointment(tutor=tutor, course=tutor.courses[0], starts_at=start, duration_minutes=minutes, **fields)


@pytest.fixture
def tutor(make):
    return make.tutor(courses=[make.course()])


@pytest.fixture
def start(now):
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(days=5)


def test_two_overlapping_sessions_of_one_tutor_are_refused_by_the_database(db, make, tutor, start):
    _session(make, tutor, start, 120)
    db.session.commit()
    with pytest.raises(IntegrityError):
        _session(make, tutor, start + timedelta(minutes=90))
    db.session.rollback()
    assert count(db, Appointment) == 1


@pytest.mark.parametrize("status", ["scheduled", "completed"])
def test_an_occupying_session_cannot_be_moved_onto_another(db, make, tutor, start, status):
    _session(make, tutor, start, status=status)
    other = _session(make, tutor, start + timedelta(hours=2))
    db.session.commit()
    other.starts_at, other.ends_at = start + timedelta(minutes=30), start + timedelta(minutes=90)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_session_cannot_move_to_a_tutor_busy_at_that_time(db, make, tutor, start):
    _session(make, tutor, start)
    other_tutor = make.tutor(courses=tutor.courses)
    other = _session(make, other_tutor, start)
    db.session.commit()
    other.tutor_id = tutor.id
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_cancelled_sessions_free_their_time_but_cannot_come_back_over_a_new_one(db, make, tutor, start):
    cancelled = _session(make, tutor, start, status="cancelled", cancelled_at=utcnow())
    _session(make, tutor, start)
    db.session.commit()
    cancelled.status = "scheduled"
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_back_to_back_sessions_and_other_tutors_are_allowed(db, make, tutor, start):
    _session(make, tutor, start)
    _session(make, tutor, start + timedelta(hours=1), 90)
    _session(make, make.tutor(courses=tutor.courses), start)
    db.session.commit()
    assert count(db, Appointment) == 3


@contextmanager
def without_overlap_guard(db):
    """Drop the database's overlap guard for a test that must write what it refuses, then restore it."""
    postgresql = db.engine.dialect.name == "postgresql"
    db.session.commit()
    with db.engine.begin() as conn:
        if postgresql:
            conn.execute(text("ALTER TABLE appointments DROP CONSTRAINT ex_appointments_no_overlapping_sessions"))
        else:
            for name in SQLITE_NO_OVERLAP_TRIGGERS:
                conn.execute(text(f"DROP TRIGGER {name}"))
    try:
        yield
    finally:
        db.session.rollback()
        with db.engine.begin() as conn:
            conn.execute(delete(SlotLock))
            conn.execute(delete(Appointment))
            if postgresql:
                conn.execute(
                    text(
                        "ALTER TABLE appointments ADD CONSTRAINT ex_appointments_no_overlapping_sessions "
                        "EXCLUDE USING gist (tutor_id WITH =, tstzrange(starts_at, ends_at) WITH &&) "
                        "WHERE (status IN ('scheduled', 'completed'))"
                    )
                )
            else:
                for trigger in SQLITE_NO_OVERLAP_TRIGGERS.values():
                    conn.execute(text(trigger))


# A paid session gets all its time, or is refunded as a lost slot


@pytest.fixture
def pending(db, make, offer, gateway, now):
    """A pending one-hour order at 10:00 with a single tutor, its hold and its payment."""
    student = make.user()
    cart = new_cart(db, student)
    fill(cart, offer, 10, now=now, tutor=offer.tutors[0])
    order, payment = start_checkout(cart, billing(student.email), now, gateway, user=student)
    db.session.commit()
    return order, payment


def _pay(db, payment, gateway, now):
    payment_succeeded(payment.gateway_payment_id, now + timedelta(minutes=20), gateway)
    db.session.commit()
    db.session.expire_all()


def _cells_of(db, appointment):
    return db.session.scalars(
        select(SlotLock.cell_start).where(SlotLock.appointment_id == appointment.id).order_by(SlotLock.cell_start)
    ).all()


def test_a_payment_whose_hold_was_swept_takes_its_time_afresh(db, offer, gateway, now, pending):
    order, payment = pending
    db.session.execute(delete(Hold))
    db.session.commit()

    _pay(db, payment, gateway, now)

    [item] = order.items
    assert order.status == "paid" and item.appointment is not None
    assert _cells_of(db, item.appointment) == [offer.at(10), offer.at(10, 30)]
    assert broken_invariants() == {}


def test_a_handover_that_finds_cells_missing_takes_the_whole_time_afresh(db, offer, gateway, now, pending):
    order, payment = pending
    db.session.execute(delete(SlotLock).where(SlotLock.cell_start == offer.at(10, 30)))
    db.session.commit()

    _pay(db, payment, gateway, now)

    [item] = order.items
    assert _cells_of(db, item.appointment) == [offer.at(10), offer.at(10, 30)]
    assert count(db, Hold) == 0
    assert broken_invariants() == {}


def test_a_handover_whose_missing_cell_another_student_holds_is_a_lost_slot(db, make, offer, gateway, now, pending):
    order, payment = pending
    tutor = offer.tutors[0]
    db.session.execute(delete(SlotLock).where(SlotLock.cell_start == offer.at(10, 30)))
    rival_cart = new_cart(db, make.user())
    rival_hold = Hold(
        tutor_id=tutor.id,
        starts_at=offer.at(10, 30),
        ends_at=offer.at(11, 30),
        created_at=now,
        expires_at=now + timedelta(hours=1),
    )
    db.session.add(rival_hold)
    db.session.flush()
    db.session.add(
        CartItem(
            cart=rival_cart,
            course_id=offer.course.id,
            tutor_id=tutor.id,
            starts_at=offer.at(10, 30),
            ends_at=offer.at(11, 30),
            duration_minutes=60,
            price_cents=4500,
            hold_id=rival_hold.id,
        )
    )
    occupy(tutor.id, offer.at(10, 30), offer.at(11, 30), hold_id=rival_hold.id)
    db.session.commit()

    _pay(db, payment, gateway, now)

    [item] = order.items
    assert order.status == "refunded" and item.flag_reason == SLOT_LOST
    assert count(db, Appointment) == 0
    assert db.session.scalars(select(Refund.amount_cents)).all() == [4500]
    # The rival keeps the time; what was left of the payer's hold is released.
    assert db.session.scalars(select(SlotLock.hold_id).order_by(SlotLock.cell_start)).all() == [rival_hold.id] * 2
    assert count(db, Hold) == 1
    assert broken_invariants() == {}


@pytest.mark.bare_rows
def test_a_session_that_lost_its_cells_still_blocks_a_payment_for_its_time(db, make, offer, gateway, now, pending):
    order, payment = pending
    tutor = offer.tutors[0]
    # Data damaged by hand: the pending order's hold is gone and a session sits at 10:00 without cells.
    db.session.execute(delete(Hold))
    _session(make, tutor, offer.at(10), cells=False)
    db.session.commit()

    _pay(db, payment, gateway, now)

    [item] = order.items
    assert order.status == "refunded" and item.flag_reason == SLOT_LOST and item.appointment is None
    assert count(db, Appointment) == 1


# flask check-integrity


def test_every_check_passes_on_a_booked_order(db, make):
    make.booked_order(items=2)
    db.session.commit()
    assert broken_invariants() == {}


def _damaged(db, make, offer, now, name):
    """Break one invariant by hand; returns what the check must report."""
    tutor = offer.tutors[0]
    if name == "appointments_without_their_cells":
        order = make.booked_order(items=1)
        db.session.execute(delete(SlotLock).where(SlotLock.cell_start == order.items[0].starts_at))
        return [order.items[0].appointment.id]
    if name in ("holds_without_their_cells", "holds_without_cart_item"):
        [item] = fill(new_cart(db, make.user()), offer, 11, now=now, tutor=tutor)
        if name == "holds_without_cart_item":
            db.session.execute(delete(CartItem).where(CartItem.id == item.id))
        else:
            db.session.execute(delete(SlotLock).where(SlotLock.cell_start == offer.at(11)))
        return [item.hold_id]
    if name == "cells_without_owner":
        order = make.booked_order(items=1)
        appointment = order.items[0].appointment
        db.session.execute(
            text("UPDATE appointments SET status = 'cancelled', cancelled_at = starts_at WHERE id = :id"),
            {"id": appointment.id},
        )
        return db.session.scalars(select(SlotLock.id).where(SlotLock.appointment_id == appointment.id)).all()
    if name == "paid_orders_without_payment":
        return [make.order(items=1, status="paid", card=False).id]
    if name == "negative_credit_balances":
        # The database refuses a debit beyond the balance, not a spent credit line deleted by hand.
        student = make.user()
        credits.add_entry(student.id, CreditKind.CREDIT, 1000, "Geste commercial", now)
        spent = credits.add_entry(student.id, CreditKind.CREDIT, 1500, "Annulation", now)
        credits.add_entry(student.id, CreditKind.DEBIT, 2500, "Utilisé", now)
        db.session.flush()
        db.session.delete(spent)
        return [student.id]
    if name == "refunds_not_matching_their_items":
        order = make.booked_order(items=1)
        refund = Refund(order=order, amount_cents=1000, reason="Geste", idempotency_key="r-parts", status="succeeded")
        refund.items.append(RefundItem(order_item=order.items[0], amount_cents=900, cancels_appointment=False))
        db.session.add(refund)
        db.session.flush()
        return [refund.id]
    raise AssertionError(name)


@pytest.mark.bare_rows
@pytest.mark.parametrize("name", [c.name for c in CHECKS if c.name != "overlapping_appointments"])
def test_each_check_reports_the_rows_that_break_its_invariant(db, make, offer, now, name):
    expected = _damaged(db, make, offer, now, name)
    db.session.commit()

    broken = broken_invariants()

    assert name in broken, broken
    assert [row[0] for row in broken[name]] == expected


def test_overlapping_sessions_are_reported_when_the_database_guard_was_missing(db, make, tutor, start):
    with without_overlap_guard(db):
        first = _session(make, tutor, start, 120, cells=False)
        second = _session(make, tutor, start + timedelta(hours=1), cells=False)
        db.session.commit()
        broken = broken_invariants()
        db.session.rollback()
        assert [tuple(r) for r in broken["overlapping_appointments"]] == [(first.id, second.id, tutor.id)]


@pytest.mark.bare_rows
def test_check_integrity_exits_non_zero_and_names_what_is_broken(app, db, make, offer, now):
    runner = app.test_cli_runner()
    make.booked_order(items=1)
    db.session.commit()
    clean = runner.invoke(args=["check-integrity"])
    assert clean.exit_code == 0, clean.output
    assert "Intégrité vérifiée" in clean.output

    [student_id] = _damaged(db, make, offer, now, "negative_credit_balances")
    db.session.commit()
    broken = runner.invoke(args=["check-integrity"])

    assert broken.exit_code == 1
    assert "ÉCHEC Soldes de crédit négatifs : 1" in broken.output
    assert f"({student_id}, -1500)" in broken.output
    assert "1 invariant(s) non respecté(s)" in broken.output


@pytest.mark.bare_rows
def test_an_office_booking_over_a_session_that_lost_its_cells_is_refused_in_french(db, make, tutor, start, now):
    _session(make, tutor, start, cells=False)
    db.session.commit()
    with pytest.raises(AppointmentError, match=TUTOR_BUSY):
        book_without_payment(
            make.user(), tutor, tutor.courses[0], start + timedelta(minutes=30), 60, make.user(role="staff"), now
        )
    db.session.rollback()
    assert count(db, Appointment) == 1

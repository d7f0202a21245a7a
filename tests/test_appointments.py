"""Cancelling booked sessions: one credit per cancellation, whatever the clicks."""

import pytest
from sqlalchemy import delete, func, select, update

from tutoradmin import appointments, credits
from tutoradmin.models import Appointment, CreditEntry, Role, SlotLock, utcnow


@pytest.fixture
def staff(make):
    return make.user(role=Role.STAFF)


def _credit_entries(db):
    return db.session.scalar(select(func.count()).select_from(CreditEntry))


def test_a_session_cancelled_meanwhile_by_another_request_is_not_cancelled_or_credited_again(db, make, staff):
    appointment = make.booked_order(items=1).items[0].appointment
    db.session.commit()
    assert appointment.status == "scheduled"  # this request's copy, read before the other one commits
    with db.engine.begin() as other_request:
        other_request.execute(
            update(Appointment)
            .where(Appointment.id == appointment.id)
            .values(status="cancelled", cancelled_at=utcnow(), cancellation_reason="Premier clic")
        )
        other_request.execute(delete(SlotLock).where(SlotLock.appointment_id == appointment.id))

    with pytest.raises(appointments.AppointmentError, match="déjà annulé"):
        appointments.cancel(appointment, "Second clic", staff, utcnow())

    assert _credit_entries(db) == 0
    assert credits.balance_cents(appointment.student_id) == 0
    assert appointment.cancellation_reason == "Premier clic"


def test_a_tutor_cancels_a_session_still_to_come_but_not_one_that_has_started(db, make):
    now = utcnow()
    tutor_user = make.user(role=Role.TUTOR)
    upcoming = make.booked_order(items=1).items[0].appointment
    started = make.booked_order(items=1, first_start=now.replace(minute=0, second=0, microsecond=0)).items[0]
    db.session.commit()

    with pytest.raises(appointments.AppointmentError, match="à venir"):
        appointments.tutor_cancel(started.appointment, "Trop tard", tutor_user, now)
    credit = appointments.tutor_cancel(upcoming, "Malade", tutor_user, now)

    assert started.appointment.status == "scheduled"
    assert upcoming.status == "cancelled" and credit == upcoming.order_item.paid_cents

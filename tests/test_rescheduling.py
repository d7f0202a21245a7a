"""Moving a booked session: the new time is taken before the old one is released, atomically."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from tutoradmin import rescheduling
from tutoradmin.appointments import AppointmentError
from tutoradmin.models import (
    Appointment,
    AppointmentChange,
    ChangeKind,
    MeetingLink,
    OutboxEvent,
    SlotLock,
    Tutor,
    utcnow,
)
from tutoradmin.occupancy import SlotTaken
from tutoradmin.slots import BookingRules

from .races import logged_in, race
from .shopping import make_offer

RULES = BookingRules()
NOTICE = 24


def _cells(db, appointment_id):
    return db.session.execute(
        select(SlotLock.tutor_id, SlotLock.cell_start)
        .where(SlotLock.appointment_id == appointment_id)
        .order_by(SlotLock.cell_start)
    ).all()


def _booked(make, offer, hour=10, tutor=0, **fields):
    order = make.booked_order(
        items=1, course=offer.course, tutor=offer.tutors[tutor], first_start=offer.at(hour), **fields
    )
    return order.items[0].appointment


def test_a_moved_session_takes_its_new_cells_releases_the_old_and_keeps_its_price(db, make, offer, now):
    appointment = _booked(make, offer, discount_cents=500)
    item = appointment.order_item
    paid, price = item.paid_cents, item.price_cents
    new_start = offer.at(14, days=1)

    change = rescheduling.move(appointment, new_start, appointment.student, now, rules=RULES)
    db.session.commit()

    db.session.expire_all()
    moved = db.session.get(Appointment, appointment.id)
    assert (moved.starts_at, moved.ends_at) == (new_start, new_start + timedelta(hours=1))
    assert [cell for _, cell in _cells(db, moved.id)] == [new_start, new_start + timedelta(minutes=30)]
    assert (moved.order_item.price_cents, moved.order_item.paid_cents) == (price, paid)
    assert (change.kind, change.previous_starts_at, change.new_starts_at) == (
        ChangeKind.RESCHEDULED,
        offer.at(10),
        new_start,
    )
    event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.event_type == "booking.rescheduled"))
    assert event.dedupe_key == f"booking.rescheduled:change:{change.id}"
    assert event.ordering_key == f"student:{moved.student_id}"
    assert event.payload["session"]["appointment_id"] == moved.id


def test_a_session_moved_half_an_hour_later_keeps_the_cells_it_shares_with_its_new_time(db, make, offer, now):
    appointment = _booked(make, offer, hour=10)
    rescheduling.move(appointment, offer.at(10, 30), None, now, rules=RULES)
    db.session.commit()

    cells = _cells(db, appointment.id)
    assert [cell for _, cell in cells] == [offer.at(10, 30), offer.at(11)]


def test_the_session_goes_to_the_free_tutor_of_best_priority_and_its_earnings_follow(db, make, offer, now):
    appointment = _booked(make, offer, tutor=1)  # the second tutor (priority 2, 26 $/h)
    link = MeetingLink(appointment=appointment, provider="zoom", url="https://zoom.us/j/1", created_at=now)
    db.session.add(link)
    db.session.flush()
    first, second = offer.tutors

    change = rescheduling.move(appointment, offer.at(15, days=2), appointment.student, now, rules=RULES)
    db.session.commit()

    db.session.expire_all()
    moved = db.session.get(Appointment, appointment.id)
    assert moved.tutor_id == first.id
    assert moved.order_item.tutor_id == first.id
    assert moved.order_item.tutor_earnings_cents == db.session.get(Tutor, first.id).hourly_rate_cents
    assert change.previous_tutor_id == second.id
    assert moved.meeting_link is None  # the previous tutor's meeting room
    assert {tutor for tutor, _ in _cells(db, moved.id)} == {first.id}


def test_a_session_may_be_kept_with_its_tutor(db, make, offer, now):
    appointment = _booked(make, offer, tutor=1)
    second = offer.tutors[1]
    rescheduling.move(appointment, offer.at(15, days=2), None, now, rules=RULES, tutor_allowed=second.id)
    db.session.commit()
    assert db.session.get(Appointment, appointment.id).tutor_id == second.id


def test_a_slot_taken_by_every_tutor_is_refused_and_the_session_stays(db, make, offer, now):
    appointment = _booked(make, offer)
    target = offer.at(13, days=1)
    for tutor in offer.tutors:
        make.appointment(tutor=tutor, course=offer.course, starts_at=target)
    db.session.commit()

    with pytest.raises(SlotTaken, match="Ce créneau n'est plus disponible"):
        rescheduling.move(appointment, target, None, now, rules=RULES)
    db.session.rollback()

    db.session.expire_all()
    stays = db.session.get(Appointment, appointment.id)
    assert stays.starts_at == offer.at(10)
    assert [cell for _, cell in _cells(db, stays.id)] == [offer.at(10), offer.at(10, 30)]
    assert db.session.scalar(select(AppointmentChange).where(AppointmentChange.kind == "rescheduled")) is None


def test_cells_taken_behind_the_calendar_still_refuse_the_move(db, make, offer, now, monkeypatch):
    """The database guard, not the calendar, has the last word: a session booked meanwhile wins."""
    appointment = _booked(make, offer)
    target = offer.at(13, days=1)
    # The calendar offered the slot (as read before), then another session took the first tutor's cells.
    make.appointment(tutor=offer.tutors[0], course=offer.course, starts_at=target)
    db.session.commit()
    monkeypatch.setattr(rescheduling, "_find_slot", lambda *args: _slot(offer.tutors[0].id, target))

    with pytest.raises(SlotTaken):
        rescheduling.move(appointment, target, None, now, rules=RULES)
    db.session.rollback()
    assert db.session.get(Appointment, appointment.id).starts_at == offer.at(10)


def _slot(tutor_id, starts_at):
    from tutoradmin.slots import Slot

    return Slot(starts_at, starts_at + timedelta(hours=1), 60, tutor_id)


def test_a_student_cannot_be_moved_onto_another_of_their_sessions(db, make, offer, now):
    appointment = _booked(make, offer)
    make.appointment(
        student=appointment.student, tutor=offer.tutors[1], course=offer.course, starts_at=offer.at(13, days=1)
    )
    with pytest.raises(AppointmentError, match="déjà une autre séance"):
        rescheduling.move(appointment, offer.at(13, 30, days=1), None, now, rules=RULES)
    # Nor are such slots offered.
    starts = [s.starts_at for s in rescheduling.day_slots(appointment, offer.day + timedelta(days=1), now, RULES)]
    assert offer.at(13, days=1) not in starts and offer.at(13, 30, days=1) not in starts
    assert offer.at(14, days=1) in starts


def test_the_calendar_offers_the_session_its_own_time_shifted_but_not_the_same_start(db, make, offer, now):
    appointment = _booked(make, offer, tutor=0)
    starts = [s.starts_at for s in rescheduling.day_slots(appointment, offer.day, now, RULES)]
    assert offer.at(10) not in starts
    assert offer.at(9, 30) in starts and offer.at(10, 30) in starts


@pytest.mark.parametrize(
    "bad_start", ["same", "off_grid", "outside_hours", "too_soon", "past_horizon"], ids=lambda name: name
)
def test_a_start_that_is_no_slot_is_refused_and_nothing_changes(db, make, offer, now, bad_start):
    appointment = _booked(make, offer)
    start = {
        "same": offer.at(10),
        "off_grid": offer.at(11, 15),
        "outside_hours": offer.at(20),
        "too_soon": now + timedelta(hours=2),
        "past_horizon": now + timedelta(days=70),
    }[bad_start]
    db.session.commit()
    with pytest.raises(AppointmentError) if bad_start == "same" else pytest.raises(SlotTaken):
        rescheduling.move(appointment, start, None, now, rules=RULES)
    db.session.rollback()
    assert db.session.get(Appointment, appointment.id).starts_at == offer.at(10)


def test_a_cancelled_or_past_session_cannot_be_moved(db, make, offer, now):
    appointment = _booked(make, offer)
    later = appointment.starts_at + timedelta(minutes=1)
    with pytest.raises(AppointmentError, match="à venir"):
        rescheduling.move(appointment, offer.at(14, days=1), None, later, rules=RULES)


def test_a_student_may_move_until_exactly_the_notice_before_the_start(db, make, offer):
    appointment = _booked(make, offer)
    at_limit = appointment.starts_at - timedelta(hours=NOTICE)
    rescheduling.student_move(appointment, appointment.student, offer.at(14), at_limit, NOTICE, RULES)
    db.session.commit()
    assert db.session.get(Appointment, appointment.id).starts_at == offer.at(14)


def test_a_student_is_refused_a_move_a_second_after_the_notice_with_the_time_limit(db, make, offer):
    appointment = _booked(make, offer)
    too_late = appointment.starts_at - timedelta(hours=NOTICE) + timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(AppointmentError) as refused:
        rescheduling.student_move(appointment, appointment.student, offer.at(14), too_late, NOTICE, RULES)
    assert "24 h avant son début" in refused.value.message
    assert "jusqu'au" in refused.value.message
    db.session.rollback()
    assert db.session.get(Appointment, appointment.id).starts_at == offer.at(10)


def test_twenty_students_moving_onto_one_slot_leave_one_winner_and_the_others_unchanged(
    app, db, make, quiet, pg_engine
):
    now = utcnow()
    offer = make_offer(db, make, now, tutors=1)
    target = offer.at(16, days=1)
    sessions = []
    for index in range(20):
        # One session each, at different times over the following days.
        start = offer.at(9 + index % 7, days=2 + index // 7)
        appointment = make.booked_order(items=1, course=offer.course, tutor=offer.tutors[0], first_start=start)
        appointment = appointment.items[0].appointment
        sessions.append((appointment.id, appointment.student, start))
    db.session.commit()
    clients = [(logged_in(app, student), appointment_id) for appointment_id, student, _ in sessions]
    quiet()

    results = race(
        [
            lambda c=c, i=i: c.post(f"/tableau-de-bord/seances/{i}/deplacer", data={"debut": target.isoformat()})
            for c, i in clients
        ]
    )

    assert all(r.status_code == 302 for r in results), results
    rows = {a.id: a.starts_at for a in db.session.scalars(select(Appointment))}
    winners = [i for i, _, _ in sessions if rows[i] == target]
    assert len(winners) == 1
    for appointment_id, _, start in sessions:
        if appointment_id not in winners:
            assert rows[appointment_id] == start
    assert db.session.scalar(select(SlotLock.appointment_id).where(SlotLock.cell_start == target)) == winners[0]
    assert len(db.session.scalars(select(AppointmentChange).where(AppointmentChange.kind == "rescheduled")).all()) == 1

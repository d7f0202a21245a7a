"""A payment arriving after its hold lapsed, while another buyer's cart sweeps the expired holds and
takes the same time, on PostgreSQL with separate connections: never two sessions on one time, never
a session without its cells."""

import random
from datetime import timedelta
from functools import partial

import pytest
from sqlalchemy import select, update

from tutoradmin.checkout import start_checkout
from tutoradmin.integrity import broken_invariants
from tutoradmin.models import Appointment, Course, Hold, Order, Tutor, utcnow

from .races import race
from .shopping import Offer, billing, fill, make_offer, new_cart

TRIALS = 40
# Expired holds of other carts, swept together with the payer's.
OTHER_HOLDS = 12
pytestmark = pytest.mark.usefixtures("pg_engine")


@pytest.fixture
def offer(db, make):
    return make_offer(db, make, utcnow(), tutors=4)


def _expire_every_hold(db, now):
    db.session.execute(
        update(Hold).values(created_at=now - timedelta(minutes=20), expires_at=now - timedelta(minutes=5))
    )


def _late_payer(db, make, offer, gateway, day, now):
    """A student whose order for 10:00 with the first tutor is pending, with hold and payment."""
    student = make.user()
    cart = new_cart(db, student)
    fill(cart, offer, 10, now=now, tutor=offer.tutors[0], days=day)
    order, payment = start_checkout(cart, billing(student.email), now, gateway, user=student)
    return order.id, (payment.gateway_payment_id, order.id, payment.amount_cents)


def _other_expired_holds(db, offer, day, now):
    cart = new_cart(db)
    hours = [9, 11, 13, 15]
    for tutor in offer.tutors[1:]:
        fill(cart, offer, *hours, now=now, tutor=tutor, days=day)
        cart = new_cart(db)


def _pay(client, gateway, payment):
    payload, signature = gateway.sign(gateway.event("payment_intent.succeeded", *payment))
    response = client.post("/webhooks/stripe", data=payload, headers={"Stripe-Signature": signature})
    return response.status_code


def _add(client, slug, tutor_id, start):
    body = {"cours": slug, "tuteur": tutor_id, "creneaux": [{"debut": start.isoformat(), "duree": 60}]}
    response = client.post("/panier/ajouter", json=body, headers={"Accept": "application/json"})
    return response.status_code


def test_a_late_payment_racing_a_sweep_and_a_rival_never_double_books(app, db, make, offer, gateway, quiet):
    rng = random.Random(9)
    outcomes = []
    slug, tutor_id = offer.course.slug, offer.tutors[0].id
    course_id, tutor_ids = offer.course.id, [tutor.id for tutor in offer.tutors]
    for day in range(TRIALS):
        # Each trial ends with a closed session: the offer is read again.
        offer = Offer(db.session.get(Course, course_id), [db.session.get(Tutor, i) for i in tutor_ids], offer.day)
        now = utcnow()
        order_id, payment = _late_payer(db, make, offer, gateway, day, now)
        _other_expired_holds(db, offer, day, now)
        _expire_every_hold(db, now)
        # The rival asks for the payer's very time or half an hour later: both overlap it.
        rival_start = offer.at(10, rng.choice([0, 30]), days=day)
        payer, rival = app.test_client(), app.test_client()
        quiet()

        paid, added = race([partial(_pay, payer, gateway, payment), partial(_add, rival, slug, tutor_id, rival_start)])

        assert paid == 200, paid
        assert added in (200, 409), added
        order = db.session.get(Order, order_id)
        booked = order.items[0].appointment is not None
        # Exactly one of them has the time: the payer's session, or the rival's hold and a refund.
        assert booked == (added == 409), (day, order.status, added)
        assert order.status == ("paid" if booked else "refunded")
        outcomes.append(booked)
        db.session.close()

    assert broken_invariants() == {}
    sessions = db.session.scalars(select(Appointment).where(Appointment.tutor_id == tutor_id)).all()
    assert len(sessions) == sum(outcomes)

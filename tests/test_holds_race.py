"""Students racing for the same tutor time on PostgreSQL: the database lets exactly one win."""

from datetime import time, timedelta
from functools import partial
from itertools import pairwise

import pytest
from sqlalchemy import func, select

from tutoradmin import cart as carts
from tutoradmin.localtime import LOCAL_TZ, local_instant
from tutoradmin.models import Cart, CartItem, Hold, SlotLock, utcnow
from tutoradmin.slots import BookingRules

from . import races
from .shopping import count

SLOT_TAKEN = "Ce créneau n'est plus disponible"
OVERLAPS_CART = "Ce créneau chevauche une séance déjà choisie."
THREADS = 20
# Concurrency needs PostgreSQL's row locks: skipped on SQLite.
pytestmark = pytest.mark.usefixtures("pg_engine")


@pytest.fixture
def offer(db, make):
    """A course with tutors free every day from 9:00 to 17:00, and a day a week ahead."""
    course = make.course(rate_cents=4500)
    tutors = []
    for priority in range(8):
        tutor = make.tutor(courses=[course], priority=priority)
        for weekday in range(7):
            make.weekly_rule(tutor, weekday=weekday, start=time(9), end=time(17))
        tutors.append(tutor)
    db.session.commit()
    day = (utcnow().astimezone(LOCAL_TZ) + timedelta(days=7)).date()
    return course, tutors, day


def race(clients, bodies, paths=None):
    """Post every body at the same moment, each from its own client; (status, JSON) per body."""
    paths = paths or ["/panier/ajouter"] * len(bodies)

    def post(client, path, body):
        response = client.post(path, json=body, headers={"Accept": "application/json"})
        return response.status_code, response.get_json()

    return races.race([partial(post, *call) for call in zip(clients, paths, bodies, strict=True)])


def statuses(results):
    return sorted((status for status, _ in results), key=str)


def body(course, start, duration=60, tutor=None):
    data = {"cours": course.slug, "creneaux": [{"debut": start.isoformat(), "duree": duration}]}
    if tutor is not None:
        data["tuteur"] = tutor.id
    return data


def test_twenty_students_racing_for_one_slot_leave_one_winner(app, db, offer, quiet):
    course, tutors, day = offer
    start = local_instant(day, time(9))
    tutor_id = tutors[3].id
    requests = [body(course, start, tutor=tutors[3])] * THREADS
    quiet()

    results = race([app.test_client() for _ in range(THREADS)], requests)

    assert statuses(results) == [200] + [409] * (THREADS - 1), results
    assert [data for status, data in results if status == 409] == [{"error": SLOT_TAKEN}] * (THREADS - 1)
    hold = db.session.scalars(select(Hold)).one()
    assert (hold.tutor_id, hold.starts_at, hold.ends_at) == (tutor_id, start, start + timedelta(hours=1))
    assert db.session.scalars(select(SlotLock.hold_id)).all() == [hold.id, hold.id]
    assert (count(db, Cart), count(db, CartItem)) == (1, 1)


def test_racing_for_overlapping_slots_of_one_tutor_never_double_books_them(app, db, offer, quiet):
    course, tutors, day = offer
    tutor = tutors[5]  # chosen, so the better tutors cannot absorb the race
    tutor_id = tutor.id
    requests = [
        body(course, local_instant(day, time(9)) + timedelta(minutes=30 * (i // 2)), 60 if i % 2 == 0 else 90, tutor)
        for i in range(THREADS)
    ]
    quiet()

    results = race([app.test_client() for _ in range(THREADS)], requests)

    assert not [r for r in results if r[0] not in (200, 409)], results
    assert all(data == {"error": SLOT_TAKEN} for status, data in results if status == 409)
    holds = db.session.scalars(select(Hold).order_by(Hold.starts_at)).all()
    wins = sum(1 for status, _ in results if status == 200)
    assert wins == len(holds) == count(db, CartItem) >= 1
    assert {h.tutor_id for h in holds} == {tutor_id}
    for earlier, later in pairwise(holds):
        assert earlier.ends_at <= later.starts_at
    cells = sum((h.ends_at - h.starts_at) // timedelta(minutes=30) for h in holds)
    assert count(db, SlotLock) == cells
    assert db.session.scalar(select(func.count(func.distinct(SlotLock.cell_start)))) == cells


def test_racing_for_a_slot_whose_hold_just_expired_leaves_one_winner(app, db, offer, quiet):
    course, tutors, day = offer
    start = local_instant(day, time(9))
    earlier = utcnow() - timedelta(minutes=20)
    lapsed = carts.get_or_create_cart(session_key="parti")
    [item] = carts.add_slots(lapsed, [carts.SlotRequest(course, start, 60, tutors[0].id)], earlier, BookingRules())
    expired_hold_id, item_id = item.hold_id, item.id
    requests = [body(course, start, tutor=tutors[0])] * THREADS
    quiet()

    results = race([app.test_client() for _ in range(THREADS)], requests)

    assert statuses(results) == [200] + [409] * (THREADS - 1), results
    hold = db.session.scalars(select(Hold)).one()
    assert hold.id != expired_hold_id and hold.expires_at > utcnow()
    assert db.session.scalars(select(SlotLock.hold_id)).all() == [hold.id, hold.id]
    assert db.session.get(CartItem, item_id).hold_id is None  # the lapsed cart keeps its item, unheld


def test_one_student_adding_from_several_browsers_keeps_one_cart_without_overlaps(app, db, offer, make, quiet):
    course, tutors, day = offer
    user = make.user()
    db.session.commit()
    # Pairwise overlapping sessions, each with its own free tutor (the first six of eight): only the
    # cart's one-session-at-a-time rule can refuse them.
    sessions = [(time(9), 60), (time(9), 90), (time(9), 120), (time(9, 30), 60), (time(9, 30), 90), (time(9, 30), 120)]
    requests = [
        body(course, local_instant(day, start), duration, tutor)
        for (start, duration), tutor in zip(sessions, tutors, strict=False)
    ]
    clients = logged_in_clients(app, user, len(requests))
    user_id = user.id
    quiet()

    results = race(clients, requests)

    assert statuses(results) == [200] + [409] * (len(requests) - 1), results
    assert all(data == {"error": OVERLAPS_CART} for status, data in results if status == 409)
    cart = db.session.scalars(select(Cart)).one()
    assert cart.user_id == user_id
    hold = db.session.scalars(select(Hold)).one()
    assert count(db, CartItem) == 1
    assert count(db, SlotLock) == (hold.ends_at - hold.starts_at) // timedelta(minutes=30)


def logged_in_clients(app, user, number):
    return [races.logged_in(app, user) for _ in range(number)]


def test_adding_distinct_slots_from_several_browsers_at_once_fills_one_cart(app, db, offer, make, quiet):
    course, _tutors, day = offer
    user = make.user()
    db.session.commit()
    clients = logged_in_clients(app, user, 6)
    requests = [body(course, local_instant(day, time(9 + i))) for i in range(6)]
    quiet()

    results = race(clients, requests)

    assert statuses(results) == [200] * 6, results
    cart = db.session.scalars(select(Cart)).one()
    assert len(cart.items) == count(db, Hold) == 6


def test_removing_one_item_from_several_browsers_at_once_removes_it_once(app, db, offer, make, quiet):
    course, _tutors, day = offer
    user = make.user()
    cart = carts.get_or_create_cart(user=user)
    [item] = carts.add_slots(
        cart, [carts.SlotRequest(course, local_instant(day, time(9)), 60)], utcnow(), BookingRules()
    )
    db.session.commit()
    clients = logged_in_clients(app, user, 6)
    item_id = item.id
    quiet()

    results = race(clients, [None] * 6, [f"/panier/retirer/{item_id}"] * 6)

    assert statuses(results) == [200] + [404] * 5, results
    assert all(data == {"error": "Élément introuvable"} for status, data in results if status == 404)
    assert (count(db, CartItem), count(db, Hold), count(db, SlotLock)) == (0, 0, 0)


def test_removing_expired_items_while_others_sweep_them_never_fails(app, db, offer, quiet):
    course, tutors, day = offer
    earlier = utcnow() - timedelta(minutes=20)
    owners, item_ids = [], []
    for i in range(10):
        cart = carts.get_or_create_cart(session_key=f"invite-{i}")
        request = carts.SlotRequest(course, local_instant(day, time(9)) + timedelta(hours=i // 8), 60, tutors[i % 8].id)
        [item] = carts.add_slots(cart, [request], earlier, BookingRules())
        item_ids.append(item.id)
        owner = app.test_client()
        with owner.session_transaction() as session:
            session["cart_key"] = f"invite-{i}"
        owners.append(owner)
    # Another tab of each cart adds a session, sweeping every expired hold on the way,
    # including the ones being removed.
    sweepers = []
    for i in range(10):
        sweeper = app.test_client()
        with sweeper.session_transaction() as session:
            session["cart_key"] = f"invite-{i}"
        sweepers.append(sweeper)
    adds = [body(course, local_instant(day + timedelta(days=1 + i), time(9))) for i in range(10)]
    paths = [f"/panier/retirer/{item_id}" for item_id in item_ids] + ["/panier/ajouter"] * 10
    quiet()

    results = race(owners + sweepers, [None] * 10 + adds, paths)

    assert statuses(results) == [200] * 20, results
    assert count(db, CartItem) == count(db, Hold) == count(db, Cart) == 10
    assert db.session.scalars(select(CartItem).where(CartItem.id.in_(item_ids))).all() == []

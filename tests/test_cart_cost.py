"""What adding to the cart costs: a fixed number of statements, whatever the cart holds and the course's tutors."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from tutoradmin import cart as carts
from tutoradmin.models import CartItem, Hold, SlotLock
from tutoradmin.occupancy import SlotTaken, hold_cells, occupy
from tutoradmin.offers import bookable_offer
from tutoradmin.slots import BookingRules

from .booking_requests import add_json, course_offer, written
from .query_counts import count_queries
from .shopping import count, make_offer, new_cart

RULES = BookingRules()

# Sweep, cart lock with its items, the tutors' calendars, the hold with its cells (one statement on PostgreSQL,
# two on SQLite), the item.
ADD_ONE_SLOT = {
    "postgresql": ["DELETE", "SELECT", "SELECT", "WITH", "INSERT"],
    "sqlite": ["DELETE", "SELECT", "SELECT", "INSERT", "INSERT", "INSERT"],
}
# Each further slot of one request: its calendars, its hold and its cells (the items go in one insert).
PER_FURTHER_SLOT = {"postgresql": 2, "sqlite": 3}


def add_one_slot(db):
    return ADD_ONE_SLOT[db.engine.dialect.name]


def verbs(statements):
    return [statement.split(None, 1)[0].upper() for statement in statements]


def ask(offer, hour, duration=60, minute=0):
    """A request as the cart page makes it: with the course's tutors read together with the course."""
    return carts.SlotRequest(
        offer.course, offer.at(hour, minute), duration, tutors=bookable_offer(offer.course.slug).tutors
    )


def _offer_with_cart(db, make, now, tutors, items):
    """A course taught by `tutors` tutors, and a guest cart already holding `items` sessions of it."""
    offer = make_offer(db, make, now, tutors=tutors)
    cart = new_cart(db)
    if items:
        carts.add_slots(cart, [ask(offer, 9 + i, 60) for i in range(items)], now, RULES)
    db.session.commit()
    db.session.refresh(cart)  # loaded, as the page's cart is when the add starts
    return offer, cart


@pytest.mark.parametrize(("tutors", "items"), [(1, 0), (2, 0), (6, 0), (2, 4), (6, 4)])
def test_adding_a_slot_sends_the_same_statements_whatever_the_cart_holds_and_the_tutors(db, make, now, tutors, items):
    offer, cart = _offer_with_cart(db, make, now, tutors, items)
    request = ask(offer, 15, 60)

    with count_queries(db) as statements:
        [item] = carts.add_slots(cart, [request], now, RULES)

    assert verbs(statements) == add_one_slot(db), verbs(statements)
    db.session.commit()
    assert (item.starts_at, item.tutor_id, item.price_cents) == (offer.at(15), offer.tutors[0].id, 4500)
    assert count(db, CartItem, CartItem.cart_id == cart.id) == items + 1
    assert count(db, SlotLock, SlotLock.hold_id == item.hold_id) == 2


@pytest.mark.parametrize("slots", [2, 3])
def test_each_further_slot_of_one_add_costs_the_same_few_statements(db, make, now, slots):
    offer, cart = _offer_with_cart(db, make, now, tutors=3, items=0)
    requests = [ask(offer, 9 + 2 * i, 90) for i in range(slots)]

    with count_queries(db) as statements:
        added = carts.add_slots(cart, requests, now, RULES)

    further = PER_FURTHER_SLOT[db.engine.dialect.name]
    assert len(statements) == len(add_one_slot(db)) + further * (slots - 1), " ".join(verbs(statements))
    db.session.commit()
    # The items come back in the order asked for, each with its own hold of three cells.
    assert [item.starts_at for item in added] == [offer.at(9 + 2 * i) for i in range(slots)]
    assert len({item.hold_id for item in added}) == slots
    assert count(db, SlotLock, SlotLock.hold_id.in_([item.hold_id for item in added])) == 3 * slots


def test_an_add_keeps_its_cost_when_expired_holds_are_swept_on_the_way(db, make, now):
    offer, cart = _offer_with_cart(db, make, now, tutors=2, items=2)
    later = now + timedelta(minutes=RULES.hold_minutes + 1)

    request = ask(offer, 15, 60)

    with count_queries(db) as statements:
        [item] = carts.add_slots(cart, [request], later, RULES)

    assert verbs(statements) == add_one_slot(db), verbs(statements)
    db.session.commit()
    # The lapsed holds are gone with their cells; their items stay in the cart, offered to be held again.
    assert db.session.scalars(select(Hold.id)).all() == [item.hold_id]
    assert count(db, SlotLock) == 2
    assert count(db, CartItem, CartItem.cart_id == cart.id, CartItem.hold_id.is_(None)) == 2


@pytest.mark.parametrize("items", [0, 3])
def test_the_json_add_of_a_returning_visitor_sends_a_fixed_number_of_statements(client, db, make, items):
    offer = course_offer(db, make)
    for hour in range(items):
        assert add_json(client, offer, start=offer.start(10 + hour)).status_code == 200
    if not items:
        # The visitor's cart exists already: an add then removed.
        assert add_json(client, offer, start=offer.start(10)).status_code == 200
        client.post(f"/panier/retirer/{db.session.scalar(select(CartItem.id))}")

    with count_queries(db) as statements:
        response = add_json(client, offer, start=offer.start(15))

    assert response.status_code == 200, response.get_data(as_text=True)
    # The course with its tutors, then the add itself: the visitor's cart is found as it is locked.
    assert verbs(statements)[:1] == ["SELECT"], [" ".join(s.split())[:50] for s in statements]
    add = add_one_slot(db)
    assert verbs(statements)[1:] in (add, [*add, "COMMIT"], ["BEGIN", *add, "COMMIT"]), verbs(statements)
    assert written(db)[1:] == (items + 1, items + 1, 2 * (items + 1))


@pytest.mark.bare_rows  # a hold left without cells on purpose
def test_a_refused_occupation_leaves_none_of_its_cells_and_the_transaction_usable(db, make, now):
    offer, cart = _offer_with_cart(db, make, now, tutors=1, items=0)
    tutor = offer.tutors[0]
    carts.add_slots(new_cart(db), [ask(offer, 10, 60)], now, RULES)
    hold = Hold(tutor_id=tutor.id, starts_at=offer.at(9), ends_at=offer.at(10, 30), expires_at=now + timedelta(hours=1))
    db.session.add(hold)
    db.session.flush()
    before = count(db, SlotLock)

    # 9:00 to 10:30: the first two cells are free, the third is the other cart's.
    with pytest.raises(SlotTaken):
        occupy(tutor.id, hold.starts_at, hold.ends_at, hold_id=hold.id)

    assert count(db, SlotLock) == before
    assert count(db, SlotLock, SlotLock.hold_id == hold.id) == 0
    # The same transaction goes on: an add right after works and commits.
    [item] = carts.add_slots(cart, [ask(offer, 14, 60)], now, RULES)
    db.session.commit()
    assert count(db, SlotLock, SlotLock.hold_id == item.hold_id) == 2


@pytest.mark.bare_rows  # a hold taken without a cart item, on purpose
def test_a_refused_hold_leaves_neither_hold_nor_cells_and_the_transaction_usable(db, make, now):
    offer, _cart = _offer_with_cart(db, make, now, tutors=1, items=0)
    tutor = offer.tutors[0]
    carts.add_slots(new_cart(db), [ask(offer, 10, 60)], now, RULES)
    holds, cells = count(db, Hold), count(db, SlotLock)

    # 9:00 to 10:30: the first two cells are free, the third is the other cart's.
    with pytest.raises(SlotTaken):
        hold_cells(tutor.id, offer.at(9), offer.at(10, 30), now, now + timedelta(minutes=15))

    assert (count(db, Hold), count(db, SlotLock)) == (holds, cells)
    # 9:00 to 10:00 is free: held at once, in the same transaction.
    hold_id = hold_cells(tutor.id, offer.at(9), offer.at(10), now, now + timedelta(minutes=15))
    db.session.commit()
    assert count(db, SlotLock, SlotLock.hold_id == hold_id) == 2
    assert db.session.get(Hold, hold_id).ends_at == offer.at(10)

"""The cart rules of SPEC §6 on the domain functions: holds, prices, overlaps, merging, expiry."""

import itertools
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from tutoradmin import cart as carts
from tutoradmin.calendars import UnknownTutor
from tutoradmin.holds import sweep_expired_holds
from tutoradmin.localtime import local_instant
from tutoradmin.models import Cart, CartItem, Hold, SlotLock
from tutoradmin.offers import day_slots
from tutoradmin.slots import BookingRules

from .shopping import count

MONDAY = date(2026, 12, 7)
NOW = local_instant(date(2026, 12, 1), time(8))
RULES = BookingRules()
LATER = NOW + timedelta(minutes=16)  # after a hold taken at NOW has expired
_keys = itertools.count(1)


def at(hour, minute=0, day=MONDAY):
    return local_instant(day, time(hour, minute))


@pytest.fixture
def course(make):
    return make.course(rate_cents=4500)


@pytest.fixture
def teacher(make, course):
    """Create a tutor of `course` free on Mondays from 9:00 to 17:00."""

    def _teacher(priority=10, course=course, **fields):
        tutor = make.tutor(courses=[course], priority=priority, **fields)
        make.weekly_rule(tutor, weekday=MONDAY.weekday(), start=time(9), end=time(17))
        return tutor

    return _teacher


@pytest.fixture
def new_cart(db):
    """A guest cart, or `user`'s cart."""

    def _new_cart(user=None):
        cart = Cart(user_id=user.id) if user else Cart(session_key=f"invite-{next(_keys)}")
        db.session.add(cart)
        db.session.flush()
        return cart

    return _new_cart


def ask(course, hour, minute=0, duration=60, tutor=None, day=MONDAY):
    return carts.SlotRequest(course, at(hour, minute, day), duration, tutor.id if tutor else None)


def add(cart, *requests, now=NOW):
    return carts.add_slots(cart, list(requests), now, RULES)


def refused(db, cart, *requests, now=NOW):
    """The CartError an add raises; the transaction is rolled back, as the views do."""
    with pytest.raises(carts.CartError) as caught:
        add(cart, *requests, now=now)
    db.session.rollback()
    return caught.value


# Adding


def test_adding_a_slot_holds_it_for_fifteen_minutes_at_the_course_rate(db, course, teacher, new_cart):
    tutor = teacher(hourly_rate_cents=3100)
    locks = 0
    for hour, duration, price, cells in ((9, 60, 4500, 2), (11, 90, 6750, 3), (13, 120, 9000, 4)):
        cart = new_cart()
        [item] = add(cart, ask(course, hour, duration=duration))
        db.session.commit()
        locks += cells

        assert (item.tutor_id, item.starts_at) == (tutor.id, at(hour))
        assert item.ends_at == at(hour) + timedelta(minutes=duration)
        assert item.price_cents == price
        assert (item.hold.created_at, item.hold.expires_at) == (NOW, NOW + timedelta(minutes=15))
        assert (item.hold.tutor_id, item.hold.starts_at, item.hold.ends_at) == (tutor.id, item.starts_at, item.ends_at)
        assert count(db, SlotLock) == locks
        summary = carts.summarize(cart, NOW)
        assert (summary.held, summary.subtotal_cents, summary.total_cents) == ([item], price, price)


def test_the_price_is_the_course_rate_whichever_tutor_gets_the_slot(db, make, teacher, new_cart):
    course = make.course(rate_cents=5250)
    cheap = teacher(course=course, hourly_rate_cents=2000, priority=1)
    dear = teacher(course=course, hourly_rate_cents=4000, priority=2)
    [first] = add(new_cart(), ask(course, 9, duration=90))
    [second] = add(new_cart(), ask(course, 9, duration=90))
    assert (first.tutor_id, second.tutor_id) == (cheap.id, dear.id)
    assert first.price_cents == second.price_cents == 7875


def test_the_slot_goes_to_the_free_tutor_with_the_best_priority(db, course, teacher, new_cart):
    teacher(priority=5)
    best = teacher(priority=1)
    [item] = add(new_cart(), ask(course, 9))
    assert item.tutor_id == best.id


def test_when_the_best_tutor_is_held_the_next_one_gets_the_slot(db, course, teacher, new_cart):
    other = teacher(priority=5)
    best = teacher(priority=1)
    [first] = add(new_cart(), ask(course, 9))
    [second] = add(new_cart(), ask(course, 9))
    assert (first.tutor_id, second.tutor_id) == (best.id, other.id)
    assert refused(db, new_cart(), ask(course, 9)).args[0] == "Ce créneau n'est plus disponible"


def test_a_chosen_tutor_gets_the_slot_even_with_a_worse_priority(db, course, teacher, new_cart):
    chosen = teacher(priority=9)
    teacher(priority=1)
    [item] = add(new_cart(), ask(course, 9, tutor=chosen))
    assert item.tutor_id == chosen.id


def test_a_tutor_who_does_not_teach_the_course_is_unknown(db, make, course, teacher, new_cart):
    teacher()
    outsider = make.tutor(courses=[make.course()])
    inactive = teacher(active=False)
    db.session.commit()
    for tutor in (outsider, inactive):
        with pytest.raises(UnknownTutor, match="Ce tuteur n'enseigne pas ce cours"):
            add(new_cart(), ask(course, 9, tutor=tutor))
        db.session.rollback()
    assert count(db, Hold) == count(db, CartItem) == 0


def test_a_slot_held_by_another_cart_is_not_offered_and_cannot_be_added(db, course, teacher, new_cart):
    tutor = teacher()
    add(new_cart(), ask(course, 9))
    db.session.commit()

    starts = [s.starts_at for s in day_slots(course, MONDAY, 60, NOW, RULES)]
    assert at(8, 30) not in starts and at(9) not in starts and at(9, 30) not in starts
    assert at(10) in starts
    for request in (ask(course, 9), ask(course, 9, tutor=tutor), ask(course, 8, 30, duration=90)):
        error = refused(db, new_cart(), request)
        assert (str(error), type(error)) == ("Ce créneau n'est plus disponible", carts.CartError)
    assert count(db, Hold) == 1


def test_slots_outside_the_booking_rules_cannot_be_added(db, make, course, new_cart):
    tutor = make.tutor(courses=[course])
    for weekday in range(7):
        make.weekly_rule(tutor, weekday=weekday, start=time(0), end=time(23, 30))
    db.session.commit()
    refused_starts = [
        NOW + timedelta(hours=11, minutes=30),  # under the 12-hour lead time
        NOW - timedelta(days=1),  # in the past
        NOW + timedelta(days=60, minutes=30),  # past the 60-day horizon
        NOW + timedelta(days=20, hours=12, minutes=15),  # off the half-hour grid
        local_instant(date(2026, 12, 10), time(23)),  # would end after the tutor's hours
    ]
    for starts_at in refused_starts:
        error = refused(db, new_cart(), carts.SlotRequest(course, starts_at, 60))
        assert (str(error), type(error)) == ("Ce créneau n'est plus disponible", carts.CartError), starts_at
    assert count(db, Hold) == 0
    # The limits themselves are bookable.
    for starts_at in (NOW + timedelta(hours=12), NOW + timedelta(days=60)):
        assert add(new_cart(), carts.SlotRequest(course, starts_at, 60))[0].starts_at == starts_at


# Duplicates and overlaps inside one cart


def test_the_same_slot_twice_is_already_in_the_cart(db, course, teacher, new_cart):
    teacher()
    teacher(priority=20)  # another tutor is still free at 9:00: only the cart rule refuses
    cart = new_cart()
    add(cart, ask(course, 9))
    db.session.commit()
    assert str(refused(db, cart, ask(course, 9))) == "Cet élément est déjà dans votre panier"
    assert str(refused(db, new_cart(), ask(course, 11), ask(course, 11))) == "Cet élément est déjà dans votre panier"
    assert count(db, CartItem) == 1


def test_overlapping_sessions_cannot_share_a_cart_whatever_the_tutor_or_course(db, make, course, teacher, new_cart):
    teacher()
    other_course = make.course()
    other_tutor = teacher(course=other_course)
    cart = new_cart()
    add(cart, ask(course, 9))
    db.session.commit()
    for hour, minute, duration in ((9, 30, 60), (8, 30, 60), (9, 0, 120), (9, 30, 90), (8, 30, 120)):
        error = refused(db, cart, ask(other_course, hour, minute, duration=duration, tutor=other_tutor))
        assert (str(error), type(error)) == ("Ce créneau chevauche une séance déjà choisie.", carts.CartError)
    assert count(db, CartItem) == 1 and count(db, Hold) == 1


def test_overlapping_slots_in_one_request_are_refused(db, make, course, teacher, new_cart):
    teacher()
    other_course = make.course()
    teacher(course=other_course)
    error = refused(db, new_cart(), ask(course, 9), ask(other_course, 9, 30))
    assert str(error) == "Ce créneau chevauche une séance déjà choisie."


def test_back_to_back_sessions_fit_in_one_cart(db, course, teacher, new_cart):
    teacher()
    cart = new_cart()
    add(cart, ask(course, 9), ask(course, 10, duration=90), ask(course, 11, 30, duration=120))
    db.session.commit()
    assert [i.starts_at for i in cart.items] == [at(9), at(10), at(11, 30)]
    assert count(db, SlotLock) == 2 + 3 + 4


def test_several_slots_are_added_together_or_not_at_all(db, course, teacher, new_cart):
    teacher()
    add(new_cart(), ask(course, 14))
    db.session.commit()
    carts_before = count(db, Cart)

    cart = new_cart()
    error = refused(db, cart, ask(course, 9), ask(course, 11), ask(course, 14))
    assert str(error) == "Ce créneau n'est plus disponible"
    assert (count(db, Cart), count(db, CartItem), count(db, Hold), count(db, SlotLock)) == (carts_before, 1, 1, 2)


def test_an_empty_request_adds_nothing(db, new_cart):
    error = refused(db, new_cart())
    assert (str(error), type(error)) == ("Aucun créneau choisi.", carts.NoSlotChosen)


# Removing


def test_removing_an_item_releases_its_hold_and_cells_at_once(db, make, course, teacher, new_cart):
    teacher()
    for owner in (None, make.user()):
        cart = new_cart(owner)
        [item, kept] = add(cart, ask(course, 9), ask(course, 13))
        db.session.commit()

        carts.remove_item(cart, item.id)
        db.session.commit()
        assert [i.id for i in cart.items] == [kept.id]
        assert count(db, Hold) == 1 and count(db, SlotLock) == 2
        # The time is free for anyone straight away, hold expiry or not.
        [again] = add(new_cart(), ask(course, 9))
        assert again.hold.is_active(NOW)
        db.session.rollback()
        carts.remove_item(cart, kept.id)
        db.session.commit()
        assert count(db, Hold) == count(db, SlotLock) == count(db, CartItem) == 0


def test_an_item_of_another_cart_is_not_found(db, make, course, teacher, new_cart):
    teacher()
    mine, theirs = new_cart(make.user()), new_cart()
    [item] = add(theirs, ask(course, 9))
    db.session.commit()
    for cart, item_id in ((mine, item.id), (None, item.id), (theirs, item.id + 1000)):
        for action in (carts.remove_item, lambda c, i: carts.rehold_item(c, i, LATER, RULES)):
            with pytest.raises(carts.CartItemNotFound) as caught:
                action(cart, item_id)
            assert str(caught.value) == "Élément introuvable"
            db.session.rollback()
    db.session.rollback()
    assert count(db, CartItem) == 1 and count(db, Hold) == 1


# Expired holds


def test_sweeping_deletes_expired_holds_and_their_cells_but_keeps_the_items(db, course, teacher, new_cart):
    teacher()
    cart = new_cart()
    add(cart, ask(course, 9))
    add(new_cart(), ask(course, 13), now=NOW + timedelta(minutes=10))
    db.session.commit()

    assert sweep_expired_holds(NOW + timedelta(minutes=15)) == 1
    db.session.commit()
    assert count(db, Hold) == 1 and count(db, SlotLock) == 2
    [item] = cart.items
    assert item.hold_id is None


def test_an_expired_item_stays_in_the_cart_but_not_in_the_totals(db, make, course, teacher, new_cart):
    teacher()
    cart = new_cart()
    cart.coupon_id = make.coupon(kind="fixed", value=1000).id
    first, second = add(cart, ask(course, 9), ask(course, 13))
    db.session.commit()
    # Expired but not yet swept: already out of the totals.
    second.hold.expires_at = NOW + timedelta(minutes=5)
    db.session.commit()

    summary = carts.summarize(cart, NOW + timedelta(minutes=10))
    assert (summary.held, summary.expired) == ([first], [second])
    assert (summary.subtotal_cents, summary.discount_cents, summary.total_cents, summary.count) == (4500, 1000, 3500, 1)

    sweep_expired_holds(LATER)
    summary = carts.summarize(cart, LATER)
    assert (summary.held, summary.expired, summary.subtotal_cents, summary.total_cents) == ([], [first, second], 0, 0)


def test_an_expired_item_can_be_held_again_while_its_time_is_free(db, course, teacher, new_cart):
    tutor = teacher()
    teacher(priority=1, hourly_rate_cents=2000)  # better priority, but the item keeps its tutor
    cart = new_cart()
    [item] = add(cart, ask(course, 9, tutor=tutor))
    db.session.commit()

    again = carts.rehold_item(cart, item.id, LATER, RULES)
    db.session.commit()
    assert again.id == item.id and again.tutor_id == tutor.id
    assert again.hold.expires_at == LATER + timedelta(minutes=15)
    assert count(db, Hold) == 1 and count(db, SlotLock) == 2
    assert carts.summarize(cart, LATER).held == [again]


def test_an_expired_item_whose_time_was_taken_cannot_be_held_again(db, course, teacher, new_cart):
    teacher()
    cart = new_cart()
    [item] = add(cart, ask(course, 9))
    db.session.commit()
    add(new_cart(), ask(course, 9), now=LATER)
    db.session.commit()

    with pytest.raises(carts.CartError) as caught:
        carts.rehold_item(cart, item.id, LATER + timedelta(minutes=1), RULES)
    db.session.rollback()
    assert (str(caught.value), type(caught.value)) == ("Ce créneau n'est plus disponible", carts.CartError)
    assert db.session.get(CartItem, item.id).hold_id is None
    assert count(db, Hold) == 1


def test_holding_again_an_item_still_held_changes_nothing(db, course, teacher, new_cart):
    teacher()
    cart = new_cart()
    [item] = add(cart, ask(course, 9))
    db.session.commit()
    hold_id = item.hold_id
    assert carts.rehold_item(cart, item.id, NOW + timedelta(minutes=5), RULES).hold_id == hold_id


def test_an_expired_item_counts_as_already_in_the_cart(db, course, teacher, new_cart):
    teacher()
    cart = new_cart()
    add(cart, ask(course, 9))
    db.session.commit()
    assert str(refused(db, cart, ask(course, 9), now=LATER)) == "Cet élément est déjà dans votre panier"


# Merging a guest cart at login


def test_logging_in_moves_the_guest_items_into_the_user_cart(db, make, course, teacher, new_cart):
    teacher()
    user = make.user()
    guest = new_cart()
    coupon = make.coupon()
    guest.coupon_id = coupon.id
    add(guest, ask(course, 9), ask(course, 13))
    db.session.commit()
    guest_id = guest.id

    assert carts.merge_guest_cart(guest, user) == 0
    db.session.commit()
    db.session.expire_all()
    user_cart = carts.find_cart(user=user)
    assert [i.starts_at for i in user_cart.items] == [at(9), at(13)]
    assert all(i.hold.is_active(NOW) for i in user_cart.items)
    assert user_cart.coupon_id == coupon.id
    assert db.session.get(Cart, guest_id) is None
    assert count(db, Hold) == 2 and count(db, SlotLock) == 4


def test_merging_drops_duplicates_and_overlaps_and_releases_their_holds(db, make, course, teacher, new_cart):
    first, second = teacher(priority=1), teacher(priority=2)
    user = make.user()
    user_cart = new_cart(user)
    own_coupon, guest_coupon = make.coupon(), make.coupon()
    user_cart.coupon_id = own_coupon.id
    add(user_cart, ask(course, 9, tutor=first), ask(course, 13, tutor=first))
    guest = new_cart()
    guest.coupon_id = guest_coupon.id
    # The same session with the other tutor, one overlapping, one that fits.
    add(guest, ask(course, 9, tutor=second), ask(course, 12, 30, tutor=second), ask(course, 15, tutor=second))
    db.session.commit()

    assert carts.merge_guest_cart(guest, user) == 2
    db.session.commit()
    db.session.expire_all()
    assert [i.starts_at for i in user_cart.items] == [at(9), at(13), at(15)]
    assert user_cart.coupon_id == own_coupon.id
    assert count(db, Cart) == 1 and count(db, CartItem) == 3
    assert count(db, Hold) == 3 and count(db, SlotLock) == 6
    assert db.session.scalars(select(Hold.tutor_id).order_by(Hold.starts_at)).all() == [first.id, first.id, second.id]


def test_a_user_without_a_cart_gets_the_guest_one(db, make, course, teacher, new_cart):
    teacher()
    user = make.user()
    guest = new_cart()
    add(guest, ask(course, 9))
    db.session.commit()
    carts.merge_guest_cart(guest, user)
    db.session.commit()
    assert len(carts.find_cart(user=user).items) == 1
    assert count(db, Cart) == 1


def test_merging_nothing_does_nothing(db, make):
    assert carts.merge_guest_cart(None, make.user()) == 0
    assert count(db, Cart) == 0


# Coupons on the cart


def test_a_coupon_that_became_unusable_stops_counting_and_says_why(db, make, course, teacher, new_cart):
    teacher()
    coupon = make.coupon(kind="percent", value=15, max_redemptions=1)
    cart = new_cart()
    add(cart, ask(course, 9, duration=90))
    carts.apply_coupon(cart, coupon.code.lower(), NOW)
    db.session.commit()
    summary = carts.summarize(cart, NOW)
    assert (summary.subtotal_cents, summary.discount_cents, summary.total_cents) == (6750, 1013, 5737)

    coupon.redemptions_count = 1
    db.session.commit()
    summary = carts.summarize(cart, NOW)
    assert (summary.coupon, summary.discount_cents, summary.total_cents) == (None, 0, 6750)
    assert summary.coupon_problem == "Ce code promo a atteint sa limite d'utilisation."


def test_a_fixed_coupon_never_makes_the_total_negative(db, make, course, teacher, new_cart):
    teacher()
    cart = new_cart()
    add(cart, ask(course, 9))
    carts.apply_coupon(cart, make.coupon(kind="fixed", value=10000).code, NOW)
    summary = carts.summarize(cart, NOW)
    assert (summary.subtotal_cents, summary.discount_cents, summary.total_cents) == (4500, 4500, 0)

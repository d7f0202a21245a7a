"""Coupons: when they may be used, what they take off, and their refusals in French."""

from datetime import timedelta

import pytest

from tutoradmin import cart as carts
from tutoradmin import coupons
from tutoradmin.models import Cart, Coupon, utcnow

NOW = utcnow().replace(microsecond=0)


def coupon(**fields):
    """A coupon not saved: validity and discounts need no database."""
    fields.setdefault("code", "PROMO")
    fields.setdefault("kind", "percent")
    fields.setdefault("value", 10)
    fields.setdefault("active", True)
    fields.setdefault("redemptions_count", 0)
    return Coupon(**fields)


def refusal(coupon):
    with pytest.raises(coupons.CouponError) as caught:
        coupons.check_usable(coupon, NOW)
    return str(caught.value)


def test_unknown_and_empty_codes_are_refused(db, make):
    make.coupon(code="PROMO10")
    for code in ("AUTRE", "PROMO1", "", "   ", None):
        assert coupons.find_coupon(code) is None
        assert refusal(coupons.find_coupon(code)) == "Ce code promo n'existe pas."


def test_an_inactive_coupon_is_refused():
    assert refusal(coupon(active=False)) == "Ce code promo n'est plus actif."


def test_a_coupon_past_its_end_is_expired():
    assert refusal(coupon(ends_at=NOW)) == "Ce code promo est expiré."
    assert refusal(coupon(ends_at=NOW - timedelta(days=1))) == "Ce code promo est expiré."


def test_a_coupon_before_its_start_is_not_yet_valid():
    assert refusal(coupon(starts_at=NOW + timedelta(minutes=1))) == "Ce code promo n'est pas encore valide."


def test_a_coupon_used_as_often_as_allowed_is_used_up():
    assert refusal(coupon(max_redemptions=3, redemptions_count=3)) == (
        "Ce code promo a atteint sa limite d'utilisation."
    )


def test_a_coupon_within_its_dates_and_limit_is_usable():
    usable = coupon(starts_at=NOW, ends_at=NOW + timedelta(days=1), max_redemptions=3, redemptions_count=2)
    assert coupons.check_usable(usable, NOW) is usable


def test_codes_match_whatever_their_case_and_surrounding_spaces(db, make):
    promo = make.coupon(code="PROMO10")
    for typed in ("promo10", "Promo10", "  PROMO10  ", "PROMO10"):
        assert coupons.find_coupon(typed) == promo, typed


@pytest.mark.parametrize(
    "percent, subtotal, discount",
    [
        (10, 4500, 450),
        (15, 6750, 1013),  # 1012.5 rounds half up
        (15, 4499, 675),  # 674.85
        (33, 101, 33),  # 33.33
        (100, 9000, 9000),
    ],
)
def test_a_percent_coupon_takes_its_share_rounded_to_the_cent(percent, subtotal, discount):
    assert coupons.discount_cents(coupon(kind="percent", value=percent), subtotal) == discount


def test_a_fixed_coupon_takes_its_amount_but_never_more_than_the_subtotal():
    fixed = coupon(kind="fixed", value=5000)
    assert coupons.discount_cents(fixed, 9000) == 5000
    assert coupons.discount_cents(fixed, 4500) == 4500
    assert coupons.discount_cents(fixed, 0) == 0


def test_no_coupon_takes_nothing():
    assert coupons.discount_cents(None, 4500) == 0


def test_a_guest_cart_can_use_a_coupon_case_insensitively(db, make):
    rentree = make.coupon(code="RENTREE", kind="fixed", value=1000)
    cart = Cart(session_key="invite")
    db.session.add(cart)
    db.session.flush()
    assert carts.apply_coupon(cart, "rentree", NOW) == rentree
    db.session.commit()
    assert db.session.get(Cart, cart.id).coupon_id == rentree.id


def test_a_refused_coupon_is_not_attached_to_the_cart(db, make):
    make.coupon(code="VIEUX", ends_at=NOW - timedelta(days=1))
    cart = Cart(session_key="invite")
    db.session.add(cart)
    db.session.flush()
    with pytest.raises(coupons.CouponError, match="expiré"):
        carts.apply_coupon(cart, "vieux", NOW)
    assert cart.coupon_id is None

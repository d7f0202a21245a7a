"""Per-student coupon limits: first order only, and at most N paid orders per student with one code."""

from html import unescape

import pytest
from sqlalchemy import select

from tutoradmin import cart as carts
from tutoradmin import coupons
from tutoradmin.checkout import CheckoutError, start_checkout
from tutoradmin.fulfilment import payment_succeeded
from tutoradmin.models import Coupon, CouponRedemption, Order, User, utcnow

from .races import logged_in, race
from .shopping import billing, billing_form, count, fill, new_cart

FIRST_ORDER = "Ce code est réservé à une première commande."
STUDENT_LIMIT = "Vous avez déjà utilisé ce code le nombre de fois permis."


def buy(db, student, coupon, hour, offer, gateway, days=0):
    """Check the student's cart out with `coupon` on one session and pay it; returns the order."""
    now = utcnow()
    cart = carts.get_or_create_cart(user=student)
    cart.coupon_id = coupon.id
    fill(cart, offer, hour, now=now, days=days)
    order, payment = start_checkout(cart, billing(student.email), now, gateway, user=student)
    payment_succeeded(payment.gateway_payment_id, now, gateway)
    db.session.commit()
    return order


def unpaid_attempt(make, student, cart=None, status="failed", **fields):
    """An order of the student that was never paid (a declined card, or abandoned)."""
    order = make.order(user=student, status=status, card=False, cart_id=cart.id if cart else None, **fields)
    order.paid_at = None
    return order


def student_cart(db, student, coupon, offer, hour=9, days=0):
    cart = carts.get_or_create_cart(user=student)
    cart.coupon_id = coupon.id
    fill(cart, offer, hour, now=utcnow(), days=days)
    db.session.commit()
    return cart


# First order only


def test_a_first_order_coupon_is_accepted_for_a_student_without_paid_orders(db, make, offer, gateway):
    coupon = make.coupon(code="BIENVENUE", value=15, first_order_only=True)
    student = make.user()
    # A failed or pending attempt is not a paid order.
    unpaid_attempt(make, student)
    cart = carts.get_or_create_cart(user=student)
    fill(cart, offer, 9, now=utcnow())
    assert carts.apply_coupon(cart, "bienvenue", utcnow()) == coupon

    order, _ = start_checkout(cart, billing(student.email), utcnow(), gateway, user=student)
    assert (order.coupon_id, order.discount_cents, order.total_cents) == (coupon.id, 675, 3825)


def test_a_first_order_coupon_is_refused_once_the_student_has_a_paid_order(db, make, offer, gateway):
    coupon = make.coupon(code="BIENVENUE", value=15, first_order_only=True)
    student = make.user()
    make.order(user=student)  # paid, without any coupon
    cart = carts.get_or_create_cart(user=student)
    fill(cart, offer, 9, now=utcnow())

    with pytest.raises(coupons.CouponError, match=FIRST_ORDER):
        carts.apply_coupon(cart, "BIENVENUE", utcnow())
    assert cart.coupon_id is None
    # Another student may still use it.
    assert carts.apply_coupon(new_cart(db, make.user()), "BIENVENUE", utcnow()) == coupon


def test_a_first_order_coupon_used_once_cannot_be_used_again(db, make, offer, gateway):
    coupon = make.coupon(code="BIENVENUE", value=15, first_order_only=True)
    student = make.user()
    first = buy(db, student, coupon, 9, offer, gateway)
    assert (first.status, first.discount_cents) == ("paid", 675)

    cart = carts.get_or_create_cart(user=student)
    with pytest.raises(coupons.CouponError, match=FIRST_ORDER):
        carts.apply_coupon(cart, "BIENVENUE", utcnow())


def test_a_student_who_paid_meanwhile_is_refused_at_checkout_start_and_nothing_is_written(
    client, db, make, offer, login
):
    coupon = make.coupon(code="BIENVENUE", value=15, first_order_only=True, max_redemptions=10)
    student = make.user()
    student_cart(db, student, coupon, offer)
    make.order(user=student)  # paid in another way after the code went into the cart
    db.session.commit()
    login(student)
    orders = count(db, Order)

    cart_page = client.get("/panier").get_data(as_text=True)
    assert FIRST_ORDER in unescape(cart_page)
    response = client.post("/checkout", data=billing_form(email=student.email, password=None))

    assert response.status_code == 400
    assert FIRST_ORDER in unescape(response.get_data(as_text=True))
    assert count(db, Order) == orders
    assert db.session.get(Coupon, coupon.id).redemptions_count == 0


# At most N paid orders per student


def test_a_student_may_use_a_code_exactly_as_often_as_allowed(db, make, offer, gateway):
    coupon = make.coupon(code="DEUXFOIS", kind="fixed", value=500, max_uses_per_student=2)
    student = make.user()
    buy(db, student, coupon, 9, offer, gateway)
    # One use of two: still accepted.
    second = buy(db, student, coupon, 11, offer, gateway)
    assert second.discount_cents == 500

    cart = carts.get_or_create_cart(user=student)
    with pytest.raises(coupons.CouponError, match=STUDENT_LIMIT):
        carts.apply_coupon(cart, "DEUXFOIS", utcnow())
    # The code already in the cart is refused at checkout start, before any order.
    cart.coupon_id = coupon.id
    fill(cart, offer, 13, now=utcnow())
    assert carts.summarize(cart, utcnow()).coupon_problem == STUDENT_LIMIT
    with pytest.raises(CheckoutError, match=STUDENT_LIMIT):
        start_checkout(cart, billing(student.email), utcnow(), gateway, user=student)
    db.session.rollback()
    assert db.session.scalar(select(CouponRedemption.user_id).distinct()) == student.id
    assert count(db, CouponRedemption) == 2 and count(db, Order) == 2
    # Others are not limited by this student's uses.
    assert carts.apply_coupon(new_cart(db, make.user()), "DEUXFOIS", utcnow()) == coupon


def test_a_pending_order_of_the_student_on_another_cart_counts_as_a_use(db, make, offer, gateway):
    coupon = make.coupon(code="UNEPARPERSONNE", kind="fixed", value=500, max_uses_per_student=1)
    student = make.user()
    other_cart = new_cart(db)  # a guest cart whose checkout made this student's account
    unpaid_attempt(make, student, other_cart, status="pending", coupon_id=coupon.id)
    cart = student_cart(db, student, coupon, offer)

    assert carts.summarize(cart, utcnow()).coupon_problem == STUDENT_LIMIT
    # The pending order of the cart being checked out is replaced by the checkout: it does not count.
    other = make.user()
    own_cart = student_cart(db, other, coupon, offer, hour=13)
    unpaid_attempt(make, other, own_cart, status="pending", coupon_id=coupon.id)
    assert carts.summarize(own_cart, utcnow()).coupon_problem is None


def test_without_a_student_the_per_student_limits_are_not_checked(db, make):
    coupon = make.coupon(code="BIENVENUE", value=15, first_order_only=True, max_uses_per_student=1)
    assert coupons.check_usable(coupon, utcnow()) == coupon


# Guests: checked once their account is known


def test_a_new_guest_gets_a_first_order_coupon(client, db, make, offer):
    coupon = make.coupon(code="BIENVENUE", value=15, first_order_only=True)
    db.session.commit()
    body = {"cours": offer.course.slug, "creneaux": [{"debut": offer.at(9).isoformat(), "duree": 60}]}
    assert client.post("/panier/ajouter", json=body, headers={"Accept": "application/json"}).status_code == 200
    assert client.post("/panier/coupon", data={"code": "bienvenue"}).status_code == 302

    response = client.post("/checkout", data=billing_form(email="nouveau@example.com"))

    assert response.status_code == 302
    order = db.session.scalars(select(Order)).one()
    assert (order.user.email, order.coupon_id, order.discount_cents) == ("nouveau@example.com", coupon.id, 675)


def test_a_guest_paying_with_an_account_that_has_paid_before_is_refused_the_first_order_coupon(client, db, make, offer):
    coupon = make.coupon(code="BIENVENUE", value=15, first_order_only=True)
    student = make.user(email="revenu@example.com")
    make.order(user=student)
    cart = new_cart(db, session_key="panier-invite")
    # An earlier attempt from this cart used the account, which has paid an order since.
    unpaid_attempt(make, student, cart)
    cart.coupon_id = coupon.id
    fill(cart, offer, 9, now=utcnow())
    db.session.commit()
    with client.session_transaction() as session:
        session["cart_key"] = "panier-invite"
    orders = count(db, Order)
    # The guest is not known on the cart page: the code shows as applied.
    assert FIRST_ORDER not in unescape(client.get("/panier").get_data(as_text=True))

    response = client.post("/checkout", data=billing_form(email="revenu@example.com"))

    assert response.status_code == 400
    assert FIRST_ORDER in unescape(response.get_data(as_text=True))
    assert count(db, Order) == orders and count(db, User, User.email == "revenu@example.com") == 1
    assert db.session.get(Coupon, coupon.id).redemptions_count == 0


# Back office


def test_the_office_sets_both_limits_with_french_labels(client, db, login_as):
    login_as("staff")
    page = client.get("/admin/coupons/new/").get_data(as_text=True)
    assert "Première commande seulement" in unescape(page) and "Utilisations max. par étudiant" in unescape(page)
    data = {"code": "accueil", "kind": "percent", "value": "15", "first_order_only": "y", "active": "y"}

    assert client.post("/admin/coupons/new/", data={**data, "max_uses_per_student": "0"}).status_code == 200
    assert db.session.query(Coupon).count() == 0
    assert client.post("/admin/coupons/new/", data={**data, "max_uses_per_student": "2"}).status_code == 302

    coupon = db.session.query(Coupon).one()
    assert (coupon.code, coupon.first_order_only, coupon.max_uses_per_student) == ("ACCUEIL", True, 2)
    listing = unescape(client.get("/admin/coupons/").get_data(as_text=True))
    assert "Première commande seulement" in listing


def test_the_demo_welcome_coupon_is_for_first_orders_only():
    from tutoradmin.demo import data

    [welcome] = [c for c in data.COUPONS if c["code"] == "BIENVENUE15"]
    assert welcome["first_order_only"] is True


# Two checkouts of one student at once (PostgreSQL)


def test_two_checkouts_of_one_student_at_once_give_the_first_order_discount_once(
    app, db, make, offer, quiet, pg_engine
):
    coupon = make.coupon(code="BIENVENUE", value=15, first_order_only=True)
    coupon_id = coupon.id
    student = make.user(email="deux-onglets@example.com")
    student_cart(db, student, coupon, offer, hour=9)
    # The guest cart of another browser, from which this student checked out before (as a guest).
    guest_cart = new_cart(db, session_key="autre-navigateur")
    unpaid_attempt(make, student, guest_cart)
    guest_cart.coupon_id = coupon.id
    fill(guest_cart, offer, 13, now=utcnow())
    db.session.commit()
    member = logged_in(app, student)
    guest = app.test_client()
    with guest.session_transaction() as session:
        session["cart_key"] = "autre-navigateur"
    email = student.email
    quiet()

    results = race(
        [
            lambda: member.post("/checkout", data=billing_form(email=email, password=None)),
            lambda: guest.post("/checkout", data=billing_form(email=email)),
        ]
    )

    assert sorted(r.status_code for r in results) == [302, 400], results
    refused = next(r for r in results if r.status_code == 400)
    assert FIRST_ORDER in unescape(refused.get_data(as_text=True))
    discounted = db.session.scalars(select(Order).where(Order.coupon_id == coupon_id)).all()
    assert len(discounted) == 1 and discounted[0].discount_cents == 675
    assert db.session.get(Coupon, coupon_id).redemptions_count == 1

"""Abandoned checkouts: expired orders give back their coupon use and stop their payment; late payments."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from tutoradmin.checkout import CheckoutError, expire_abandoned, start_checkout
from tutoradmin.fulfilment import payment_succeeded
from tutoradmin.models import Appointment, Cart, CouponRedemption, Hold, User, utcnow
from tutoradmin.payments import get_gateway
from tutoradmin.webhooks import PAYMENT_FAILED, failure_message

from .factories import DEFAULT_PASSWORD
from .shopping import PASSWORD, billing, billing_form, count, fill, new_cart
from .test_checkout_http import add


def _pending_with_coupon(db, make, offer, gateway, now):
    coupon = make.coupon(code="UNEFOIS", max_redemptions=1)
    student = make.user()
    cart = new_cart(db, student)
    cart.coupon_id = coupon.id
    fill(cart, offer, 10, now=now)
    order, payment = start_checkout(cart, billing(student.email), now, gateway, user=student)
    db.session.commit()
    return coupon, cart, order, payment


def test_an_order_whose_holds_have_all_expired_is_abandoned_and_its_coupon_use_returned(db, make, offer, gateway, now):
    coupon, _cart, order, payment = _pending_with_coupon(db, make, offer, gateway, now)
    assert coupon.redemptions_count == 1

    assert expire_abandoned(now + timedelta(minutes=5), gateway) == 0
    assert expire_abandoned(now + timedelta(minutes=16), gateway) == 1
    db.session.commit()

    assert order.status == "failed" and payment.status == "canceled"
    assert coupon.redemptions_count == 0
    assert expire_abandoned(now + timedelta(minutes=17), gateway) == 0


def test_an_abandoned_order_paid_after_all_is_booked_and_its_coupon_counted_again(db, make, offer, gateway, now):
    coupon, _cart, order, payment = _pending_with_coupon(db, make, offer, gateway, now)
    expire_abandoned(now + timedelta(minutes=16), gateway)
    db.session.commit()

    payment_succeeded(payment.gateway_payment_id, now + timedelta(minutes=20), gateway)
    db.session.commit()

    assert order.status == "paid"
    assert count(db, Appointment) == 1
    assert coupon.redemptions_count == 1 and count(db, CouponRedemption) == 1


def test_an_abandoned_order_paid_after_its_coupon_was_used_up_by_someone_else_is_still_booked(
    db, make, offer, gateway, now
):
    coupon, _cart, order, payment = _pending_with_coupon(db, make, offer, gateway, now)
    expire_abandoned(now + timedelta(minutes=16), gateway)
    other = make.user()
    cart = new_cart(db, other)
    cart.coupon_id = coupon.id
    fill(cart, offer, 14, now=now + timedelta(minutes=17))
    start_checkout(cart, billing(other.email), now + timedelta(minutes=17), gateway, user=other)
    db.session.commit()
    assert coupon.redemptions_count == 1

    payment_succeeded(payment.gateway_payment_id, now + timedelta(minutes=20), gateway)
    db.session.commit()

    assert order.status == "paid" and count(db, Appointment) == 1
    assert coupon.redemptions_count == coupon.max_redemptions == 1
    assert count(db, CouponRedemption, CouponRedemption.order_id == order.id) == 1


def test_a_paid_order_takes_its_coupon_off_the_cart(db, make, offer, gateway, now):
    _coupon, cart, _order, payment = _pending_with_coupon(db, make, offer, gateway, now)

    payment_succeeded(payment.gateway_payment_id, now, gateway)
    db.session.commit()

    assert db.session.get(Cart, cart.id).coupon_id is None


def test_the_card_page_of_an_abandoned_payment_sends_back_to_checkout(client, db, make, offer, now):
    add(client, offer, hour=10)
    response = client.post("/checkout", data=billing_form())
    assert response.status_code == 302, response.get_data(as_text=True)
    card_page = response.headers["Location"]
    expire_abandoned(utcnow() + timedelta(minutes=16), get_gateway(client.application.config))
    db.session.commit()

    response = client.post(card_page, data={"outcome": "success"})

    assert response.status_code == 302 and response.headers["Location"].endswith("/checkout")
    assert count(db, Appointment) == 0


def test_a_guest_retrying_after_a_decline_keeps_the_password_typed_last(db, make, offer, gateway, now):
    cart = new_cart(db)
    fill(cart, offer, 10, now=now)
    start_checkout(cart, billing("nouvelle@example.com"), now, gateway, password="premier-essai-1")
    db.session.commit()

    start_checkout(cart, billing("nouvelle@example.com"), now, gateway, password=PASSWORD)
    db.session.commit()

    user = db.session.scalar(select(User).where(User.email == "nouvelle@example.com"))
    assert user.check_password(PASSWORD) and not user.check_password("premier-essai-1")


def test_an_account_already_used_keeps_its_password_on_a_retry(db, make, offer, gateway, now):
    student = make.user(email="fidele@example.com")
    student.last_login_at = now
    cart = new_cart(db)
    fill(cart, offer, 10, now=now)
    # An order of this guest cart already belongs to the account (e.g. it signed in, then out).
    start_checkout(cart, billing("fidele@example.com"), now, gateway, user=student)
    db.session.commit()

    start_checkout(cart, billing("fidele@example.com"), now, gateway, password="autre-mot-de-passe")
    db.session.commit()

    assert student.check_password(DEFAULT_PASSWORD)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ({"type": "card_error", "code": "card_declined", "message": "Your card was declined."}, "refusée"),
        ({"type": "card_error", "code": "expired_card", "message": "Your card has expired."}, "refusée"),
        (
            {
                "type": "invalid_request_error",
                "code": "payment_intent_authentication_failure",
                "message": "We are unable to authenticate your payment method.",
            },
            PAYMENT_FAILED,
        ),
    ],
)
def test_stripe_failures_are_recorded_in_french(error, expected):
    assert expected in failure_message({"last_payment_error": error})


def test_the_expire_holds_command_also_abandons_orders(app, db, make, offer, gateway, now):
    coupon, _cart, order, _payment = _pending_with_coupon(db, make, offer, gateway, now)
    db.session.execute(
        Hold.__table__.update().values(expires_at=now - timedelta(minutes=1), created_at=now - timedelta(minutes=16))
    )
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["expire-holds"])

    assert "Commandes abandonnées annulées : 1." in result.output, result.output
    db.session.expire_all()
    assert order.status == "failed" and coupon.redemptions_count == 0


def test_the_simulator_leaves_no_customer_id_that_stripe_would_not_know(db, make, offer, gateway, now):
    student = make.user()
    cart = new_cart(db, student)
    fill(cart, offer, 10, now=now)

    start_checkout(cart, billing(student.email), now, gateway, user=student)
    db.session.commit()

    assert student.stripe_customer_id is None


def test_a_guest_correcting_the_email_after_a_decline_keeps_one_account(db, make, offer, gateway, now):
    cart = new_cart(db)
    fill(cart, offer, 10, now=now)
    start_checkout(cart, billing("camile@exemple.com"), now, gateway, password="premier-essai-1")
    db.session.commit()

    order, _payment = start_checkout(cart, billing("Camille@Example.com"), now, gateway, password=PASSWORD)
    db.session.commit()

    [account] = db.session.scalars(select(User).where(User.role == "student")).all()
    assert account.email == "camille@example.com" and account.check_password(PASSWORD)
    assert order.user_id == account.id


def test_a_corrected_email_that_belongs_to_another_account_is_refused(db, make, offer, gateway, now):
    make.user(email="prise@example.com")
    cart = new_cart(db)
    fill(cart, offer, 10, now=now)
    start_checkout(cart, billing("libre@example.com"), now, gateway, password="premier-essai-1")
    db.session.commit()

    with pytest.raises(CheckoutError) as refused:
        start_checkout(cart, billing("prise@example.com"), now, gateway, password=PASSWORD)

    assert refused.value.code == "email_taken"

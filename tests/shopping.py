"""Shared by the checkout tests: an offer of free tutors, carts of held sessions, billing details."""

import itertools
from dataclasses import dataclass
from datetime import time, timedelta

from sqlalchemy import func, select

from tutoradmin import cart as carts
from tutoradmin import credits
from tutoradmin.checkout import Billing, start_checkout
from tutoradmin.localtime import LOCAL_TZ, local_instant
from tutoradmin.models import Cart, CreditKind
from tutoradmin.slots import BookingRules

RULES = BookingRules()
PASSWORD = "nouveau-mot-de-passe"
_keys = itertools.count(1)


def count(db, model, *where):
    """Rows of `model`, optionally filtered."""
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def row_counts(db):
    """Rows of every table, by table name: what a request that writes nothing leaves unchanged."""
    tables = db.metadata.sorted_tables
    counts = db.session.execute(select(*(select(func.count()).select_from(t).scalar_subquery() for t in tables)))
    return dict(zip((table.name for table in tables), counts.one(), strict=True))


@dataclass
class Offer:
    course: object
    tutors: list
    day: object

    def at(self, hour, minute=0, days=0):
        return local_instant(self.day + timedelta(days=days), time(hour, minute))


def make_offer(db, make, now, tutors=2, rate_cents=4500):
    """A course whose tutors are free every day from 9:00 to 17:00, and a day a week after `now`."""
    course = make.course(rate_cents=rate_cents)
    staff = []
    for priority in range(tutors):
        tutor = make.tutor(courses=[course], priority=priority + 1, hourly_rate_cents=2500 + 100 * priority)
        for weekday in range(7):
            make.weekly_rule(tutor, weekday=weekday, start=time(9), end=time(17))
        staff.append(tutor)
    db.session.commit()
    return Offer(course, staff, (now.astimezone(LOCAL_TZ) + timedelta(days=7)).date())


def new_cart(db, user=None, session_key=None):
    """A user's cart, or a guest cart under `session_key` (a fresh one by default)."""
    cart = Cart(user_id=user.id) if user else Cart(session_key=session_key or f"invite-{next(_keys)}")
    db.session.add(cart)
    db.session.flush()
    return cart


def fill(cart, offer, *sessions, now, tutor=None, days=0):
    """Hold sessions given as hours (60 min) or (hour, minutes) pairs; returns the cart items."""
    requests = []
    for session in sessions:
        hour, duration = session if isinstance(session, tuple) else (session, 60)
        requests.append(
            carts.SlotRequest(offer.course, offer.at(hour, days=days), duration, tutor.id if tutor else None)
        )
    return carts.add_slots(cart, requests, now, RULES)


# A student's billing details, as the checkout form asks for them.
BILLING = {
    "first_name": "Camille",
    "last_name": "Tremblay",
    "phone": "514 555-0101",
    "address": "123, rue Saint-Denis",
    "city": "Montréal",
    "province": "QC",
    "postal_code": "H2X 1Y4",
}


def billing(email="camille@example.com", **fields):
    return Billing(**{**BILLING, "email": email, **fields})


def billing_form(email="camille@example.com", password=PASSWORD, **fields):
    """The checkout form's fields, a guest's password included."""
    data = {**BILLING, "email": email, "password": password, "password_confirm": password, **fields}
    return {key: value for key, value in data.items() if value is not None}


def pending_order(db, make, offer, gateway, now):
    """A student's pending order of two sessions with a 10 $ coupon and 10 $ of credit, and its payment."""
    student = make.user(email="eleve@example.com")
    credits.add_entry(student.id, CreditKind.CREDIT, 1000, "Crédit de bienvenue", now)
    coupon = make.coupon(kind="fixed", value=1000, max_redemptions=10)
    cart = new_cart(db, student)
    cart.coupon_id = coupon.id
    fill(cart, offer, 9, 13, now=now)
    order, payment = start_checkout(cart, billing(student.email), now, gateway, user=student)
    db.session.commit()
    return order, payment

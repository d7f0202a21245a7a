"""Test data factories: sensible defaults, every field overridable."""

import itertools
from datetime import time, timedelta
from functools import cache

from werkzeug.security import generate_password_hash

from tutoradmin.fulfilment import BOOKED_STATUSES
from tutoradmin.models import (
    OCCUPYING_STATUSES,
    Appointment,
    Coupon,
    Course,
    Order,
    OrderItem,
    Payment,
    Role,
    Tutor,
    User,
    WeeklyRule,
    utcnow,
)
from tutoradmin.occupancy import occupy
from tutoradmin.pricing import allocate

DEFAULT_PASSWORD = "motdepasse-test"
_sequence = itertools.count(1)


@cache
def _password_hash(password):
    # Hash once per password: real scrypt hashes, without paying for them on every user.
    return generate_password_hash(password, method="scrypt")


#: A session attended: its tutor paid in full, no credit to the student (SPEC §10).
PRESENT = {"attendance": "present", "tutor_share_percent": 100, "student_credit_percent": 0}


class Factories:
    """Create and flush model instances; the test commits when it needs to."""

    def __init__(self, db):
        self.db = db

    def _save(self, obj):
        self.db.session.add(obj)
        self.db.session.flush()
        return obj

    def user(self, role=Role.STUDENT, password=DEFAULT_PASSWORD, **fields):
        n = next(_sequence)
        fields.setdefault("email", f"{role}{n}@example.com")
        fields.setdefault("first_name", "Prénom")
        fields.setdefault("last_name", f"Nom{n}")
        user = User(role=str(role), password_hash=_password_hash(password), **fields)
        return self._save(user)

    def course(self, **fields):
        n = next(_sequence)
        fields.setdefault("slug", f"cours-{n}")
        fields.setdefault("title", f"Cours {n}")
        fields.setdefault("full_name", f"Cours numéro {n}")
        fields.setdefault("rate_cents", 4500)
        return self._save(Course(**fields))

    def tutor(self, user=None, courses=(), **fields):
        user = user or self.user(role=Role.TUTOR)
        n = next(_sequence)
        fields.setdefault("display_name", f"Tuteur {n}")
        fields.setdefault("hourly_rate_cents", 2500)
        fields.setdefault("priority", 10)
        tutor = Tutor(user=user, **fields)
        tutor.courses.extend(courses)
        return self._save(tutor)

    def weekly_rule(self, tutor, weekday=0, start=time(9), end=time(17)):
        return self._save(WeeklyRule(tutor=tutor, weekday=weekday, start_time=start, end_time=end))

    def coupon(self, **fields):
        n = next(_sequence)
        fields.setdefault("code", f"PROMO{n}")
        fields.setdefault("kind", "percent")
        fields.setdefault("value", 10)
        return self._save(Coupon(**fields))

    def order(self, user=None, items=1, status="paid", course=None, tutor=None, card=True, **fields):
        """A paid order of `items` one-hour sessions, a day apart, starting in a week.

        A booked order comes with its succeeded card payment, as checkout leaves it, unless `card` is false.
        """
        user = user or self.user()
        course = course or self.course()
        tutor = tutor or self.tutor(courses=[course])
        start = fields.pop("first_start", utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(days=7))
        price = course.rate_cents
        order = Order(
            user=user,
            status=status,
            subtotal_cents=price * items,
            discount_cents=0,
            credit_cents=0,
            total_cents=price * items,
            paid_at=utcnow() if status != "pending" else None,
            **fields,
        )
        for i in range(items):
            begins = start + timedelta(days=i)
            order.items.append(
                OrderItem(
                    course=course,
                    tutor=tutor,
                    starts_at=begins,
                    ends_at=begins + timedelta(hours=1),
                    duration_minutes=60,
                    price_cents=price,
                    tutor_earnings_cents=tutor.hourly_rate_cents,
                )
            )
        if card and status in BOOKED_STATUSES and order.total_cents:
            order.payments.append(self._card_payment(order.total_cents, order.paid_at))
        return self._save(order)

    @staticmethod
    def _card_payment(amount_cents, at, provider="simulated"):
        return Payment(
            provider=provider,
            gateway_payment_id=f"pi_test_{next(_sequence)}",
            idempotency_key=f"payment-{next(_sequence)}",
            amount_cents=amount_cents,
            status="succeeded",
            succeeded_at=at,
        )

    def booked_order(self, items=2, discount_cents=0, credit_cents=0, provider="simulated", **fields):
        """A paid order as checkout leaves it: card payment, one appointment per item, time locked."""
        order = self.order(items=items, card=False, **fields)
        prices = [item.price_cents for item in order.items]
        discounts = allocate(discount_cents, prices)
        credit_shares = allocate(credit_cents, [p - d for p, d in zip(prices, discounts, strict=True)])
        for item, discount, credit in zip(order.items, discounts, credit_shares, strict=True):
            item.discount_cents, item.credit_cents = discount, credit
        order.discount_cents, order.credit_cents = discount_cents, credit_cents
        order.total_cents = order.subtotal_cents - discount_cents - credit_cents
        if order.total_cents:
            order.payments.append(self._card_payment(order.total_cents, order.paid_at, provider))
        for item in order.items:
            self.appointment(
                student=order.user, tutor=item.tutor, course=item.course, starts_at=item.starts_at, order_item=item
            )
        self.db.session.flush()
        return order

    @staticmethod
    def complete(appointment, at=None):
        """Mark a session attended, as the default mark does once it has ended."""
        appointment.status, appointment.completed_at = "completed", at or appointment.ends_at
        for name, value in {**PRESENT, "attendance_marked_at": at or appointment.ends_at}.items():
            setattr(appointment, name, value)
        return appointment

    def appointment(self, student=None, tutor=None, course=None, starts_at=None, cells=True, **fields):
        course = course or self.course()
        tutor = tutor or self.tutor(courses=[course])
        student = student or self.user()
        starts_at = starts_at or utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
        fields.setdefault("duration_minutes", 60)
        if fields.get("status") == "completed" and "attendance" not in fields:
            fields.update(PRESENT, attendance_marked_at=starts_at + timedelta(minutes=fields["duration_minutes"]))
        appointment = self._save(
            Appointment(
                student=student,
                tutor=tutor,
                course=course,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=fields["duration_minutes"]),
                **fields,
            )
        )
        # A session that takes the tutor's time owns its cells, as booking leaves it.
        if cells and appointment.status in OCCUPYING_STATUSES:
            occupy(tutor.id, appointment.starts_at, appointment.ends_at, appointment_id=appointment.id)
        return appointment

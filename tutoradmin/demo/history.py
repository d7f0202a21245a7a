"""Demo history: about 18 months of paid orders, their sessions, cancellations, credits, refunds.

Sessions are planned first (on the 30-minute grid of local time, inside the tutors'
weekly hours, never overlapping for a tutor or a student), then priced in payment
order so that coupons and credit balances evolve as they would have. Rows that need
database ids (slot locks, credit entries, redemptions, refunds) come after one flush.
"""

from collections import defaultdict
from datetime import timedelta

from ..coupons import CouponError, check_usable, discount_cents
from ..extensions import db
from ..formatting import local_datetime
from ..models import (
    Appointment,
    AppointmentChange,
    AppointmentStatus,
    ChangeKind,
    CouponRedemption,
    CreditEntry,
    CreditKind,
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundItem,
    RefundStatus,
)
from ..occupancy import occupy
from ..pricing import allocate, session_price, tutor_earnings
from . import data
from .activity import add_meeting_link, add_rating, build_activity
from .schedule import Scheduler


class HistoryBuilder:
    """Prices and writes the planned orders and what followed them; `run()` returns counts."""

    def __init__(self, rng, now, *, courses, tutors, students, profiles, office, coupons):
        self.rng = rng
        self.now = now
        self.scheduler = Scheduler(rng, now, courses=courses, tutors=tutors, students=students, profiles=profiles)
        self.tutors = tutors
        self.students = students
        self.office = office
        self.staff = office["staff"]
        self.coupons = coupons
        self.students_with_orders = set()
        self.providers = {t.id: p["meeting"] for t, p in zip(tutors, data.TUTORS, strict=True)}
        self.credit_events = defaultdict(list)
        self.deferred_credits = []
        self.manual = []
        self.counts = defaultdict(int)

    def run(self):
        self.scheduler.load_calendars()
        self._manual_credits()
        plans = self.scheduler.plan()
        orders = [self._order(n, plan) for n, plan in enumerate(plans, start=1)]
        refunds = self._refunds(orders)
        appointments = [item.appointment for order in orders for item in order.items]
        for appointment in appointments:
            self._finish(appointment)
        db.session.add_all(orders)
        db.session.flush()

        db.session.add_all(self._credit_entries() + self._redemptions(orders))
        for n, (order, amount, reason, processed_at, items) in enumerate(refunds, start=1):
            self._write_refund(n, order, amount, reason, processed_at, items)
        db.session.flush()
        for appointment in appointments:
            if appointment.status != AppointmentStatus.CANCELLED:
                occupy(appointment.tutor_id, appointment.starts_at, appointment.ends_at, appointment_id=appointment.id)
        counts = build_activity(
            self.rng,
            self.now,
            orders=orders,
            appointments=appointments,
            tutors=self.tutors,
            students=self.students,
            office=self.office,
            refunds=refunds,
            manual_credits=self.manual,
        )
        db.session.flush()
        return {
            "commandes": len(orders),
            "séances": len(appointments),
            "annulations": sum(a.status == AppointmentStatus.CANCELLED for a in appointments),
            "remboursements": len(refunds),
            **self.counts,
            **counts,
        }

    def _manual_credits(self):
        """Goodwill credits granted by staff, known before pricing so that orders can use them."""
        for index, days_ago, amount, reason in data.MANUAL_CREDITS:
            student = self.students[index]
            at = self.now - timedelta(days=days_ago, hours=3)
            self.credit_events[student.id].append((at, amount))
            self.manual.append((student, amount, reason, at))
            self.deferred_credits.append(
                {
                    "user_id": student.id,
                    "kind": CreditKind.CREDIT.value,
                    "amount_cents": amount,
                    "reason": reason,
                    "created_by_id": self.staff.id,
                    "created_at": at,
                }
            )

    def _balance(self, student, at):
        # Credits count once granted; debits (earlier orders, priced first) always count.
        events = self.credit_events[student.id]
        return sum(amount for moment, amount in events if moment < at or amount < 0)

    def _order(self, n, plan):
        student, paid_at = plan.student, plan.paid_at
        prices = [session_price(s.course, s.duration) for s in plan.sessions]
        subtotal = sum(prices)
        coupon = self._coupon(plan)
        discount = discount_cents(coupon, subtotal)
        balance = self._balance(student, paid_at)
        credit = min(balance, subtotal - discount) if balance > 0 and self.rng.random() < 0.7 else 0
        discounts = allocate(discount, prices)
        credits = allocate(credit, [p - d for p, d in zip(prices, discounts, strict=True)])
        profile = plan.profile
        order = Order(
            user=student,
            status=OrderStatus.PAID.value,
            subtotal_cents=subtotal,
            discount_cents=discount,
            credit_cents=credit,
            total_cents=subtotal - discount - credit,
            coupon=coupon,
            billing_first_name=profile["first_name"],
            billing_last_name=profile["last_name"],
            billing_email=profile["email"],
            billing_phone=profile["phone"],
            billing_address=profile["address"],
            billing_city=profile["city"],
            billing_postal_code=profile["postal_code"],
            created_at=paid_at - timedelta(minutes=self.rng.randint(2, 15)),
            paid_at=paid_at,
        )
        for session, price, share, credit_share in zip(plan.sessions, prices, discounts, credits, strict=True):
            item = OrderItem(
                course=session.course,
                tutor=session.tutor,
                starts_at=session.starts_at,
                ends_at=session.ends_at,
                duration_minutes=session.duration,
                price_cents=price,
                discount_cents=share,
                credit_cents=credit_share,
                tutor_earnings_cents=tutor_earnings(session.tutor, session.duration),
            )
            item.appointment = Appointment(
                student_id=student.id,
                tutor_id=session.tutor.id,
                course_id=session.course.id,
                starts_at=session.starts_at,
                ends_at=session.ends_at,
                duration_minutes=session.duration,
                status=AppointmentStatus.SCHEDULED.value,
                created_by_id=student.id,
                created_at=paid_at,
            )
            item.appointment.changes.append(
                AppointmentChange(
                    kind=ChangeKind.CREATED.value,
                    actor_id=student.id,
                    new_starts_at=session.starts_at,
                    created_at=paid_at,
                )
            )
            self._maybe_cancel(order, item, session.tutor)
            order.items.append(item)
        if order.total_cents > 0:
            order.payments.append(
                Payment(
                    provider="simulated",
                    gateway_payment_id=f"pi_sim_demo_{n}",
                    idempotency_key=f"demo-paiement-{n}",
                    amount_cents=order.total_cents,
                    status=PaymentStatus.SUCCEEDED.value,
                    created_at=order.created_at,
                    succeeded_at=paid_at,
                )
            )
        if credit:
            self.credit_events[student.id].append((paid_at, -credit))
            self.deferred_credits.append(
                {
                    "user_id": student.id,
                    "kind": CreditKind.DEBIT.value,
                    "amount_cents": credit,
                    "order": order,
                    "reason": "Crédit utilisé pour une commande",
                    "created_at": paid_at,
                }
            )
        if coupon is not None:
            coupon.redemptions_count += 1
        self.students_with_orders.add(student.id)
        return order

    def _coupon(self, plan):
        """A coupon usable at payment time: the welcome one on first orders, others sometimes."""
        first_order = plan.student.id not in self.students_with_orders
        if first_order and self.rng.random() < 0.5:
            codes = ["BIENVENUE15"]
        elif self.rng.random() < 0.12:
            codes = [c["code"] for c in data.COUPONS if c["code"] != "BIENVENUE15"]
        else:
            return None
        usable = []
        for code in codes:
            try:
                usable.append(check_usable(self.coupons.get(code), plan.paid_at))
            except CouponError:
                continue
        return self.rng.choice(usable) if usable else None

    def _maybe_cancel(self, order, item, tutor):
        """Some sessions are cancelled in time by the student or the tutor, for a credit."""
        appointment = item.appointment
        latest = min(item.starts_at - timedelta(hours=3), self.now)
        if self.rng.random() >= data.CANCELLATION_RATE:
            return
        if latest - order.paid_at < timedelta(hours=2):
            return
        at = order.paid_at + (latest - order.paid_at) * self.rng.uniform(0.1, 0.9)
        at = at.replace(microsecond=0)
        by_tutor = self.rng.random() < 0.2
        reasons = data.TUTOR_CANCELLATION_REASONS if by_tutor else data.STUDENT_CANCELLATION_REASONS
        reason = self.rng.choice(reasons)
        actor_id = tutor.user_id if by_tutor else order.user.id
        appointment.status = AppointmentStatus.CANCELLED.value
        appointment.cancelled_at = at
        appointment.cancelled_by_id = actor_id
        appointment.cancellation_reason = reason
        appointment.changes.append(
            AppointmentChange(
                kind=ChangeKind.CANCELLED.value,
                actor_id=actor_id,
                previous_starts_at=item.starts_at,
                reason=reason,
                created_at=at,
            )
        )
        paid = item.price_cents - item.discount_cents
        if paid > 0:
            self.credit_events[order.user.id].append((at, paid))
            self.deferred_credits.append(
                {
                    "user_id": order.user.id,
                    "kind": CreditKind.CREDIT.value,
                    "amount_cents": paid,
                    "order": order,
                    "appointment": appointment,
                    "created_by_id": actor_id,
                    "created_at": at,
                    "reason": f"Annulation de la séance du {local_datetime(item.starts_at)}",
                }
            )

    def _refunds(self, orders):
        """Full refunds of one-session orders; partial ones of the last session of longer orders."""

        def refundable(order):
            return (
                order.total_cents > 0
                and order.credit_cents == 0
                and all(i.appointment.status != AppointmentStatus.CANCELLED for i in order.items)
            )

        singles = [o for o in orders if refundable(o) and len(o.items) == 1]
        multiples = [o for o in orders if refundable(o) and len(o.items) > 1]
        full = self.rng.sample(singles, min(data.FULL_REFUNDS, len(singles)))
        partial = self.rng.sample(multiples, min(data.PARTIAL_REFUNDS, len(multiples)))
        chosen = [(o, o.items) for o in full] + [(o, o.items[-1:]) for o in partial]
        staff = self.staff
        refunds = []
        for order, items in sorted(chosen, key=lambda c: c[0].paid_at):
            latest = min(items[0].starts_at - timedelta(hours=2), self.now)
            processed_at = order.paid_at + (latest - order.paid_at) * self.rng.uniform(0.2, 0.8)
            processed_at = processed_at.replace(microsecond=0)
            reason = self.rng.choice(data.REFUND_REASONS)
            amounts = [(item, item.price_cents - item.discount_cents - item.credit_cents) for item in items]
            amount = sum(a for _, a in amounts)
            order.status = (
                OrderStatus.REFUNDED if amount == order.total_cents else OrderStatus.PARTIALLY_REFUNDED
            ).value
            for item, _ in amounts:
                appointment = item.appointment
                appointment.status = AppointmentStatus.CANCELLED.value
                appointment.cancelled_at = processed_at
                appointment.cancelled_by_id = staff.id
                appointment.cancellation_reason = reason
                appointment.changes.append(
                    AppointmentChange(
                        kind=ChangeKind.REFUNDED.value,
                        actor_id=staff.id,
                        previous_starts_at=item.starts_at,
                        reason=reason,
                        created_at=processed_at,
                    )
                )
            refunds.append((order, amount, reason, processed_at, amounts))
        return refunds

    def _finish(self, appointment):
        """Meeting links on coming and recent sessions; past sessions completed, some rated."""
        if appointment.status == AppointmentStatus.CANCELLED:
            return
        tutor = appointment.order_item.tutor
        recent = appointment.starts_at > self.now - timedelta(days=60)
        link_rate = 0.7 if appointment.ends_at > self.now else 0.4
        if (
            recent
            and self.rng.random() < link_rate
            and add_meeting_link(self.rng, self.now, appointment, tutor, self.providers[tutor.id])
        ):
            self.counts["liens de séance"] += 1
        if appointment.ends_at > self.now:
            return
        appointment.status = AppointmentStatus.COMPLETED.value
        appointment.completed_at = appointment.ends_at
        appointment.attendance, appointment.attendance_marked_at = "present", appointment.ends_at
        appointment.tutor_share_percent, appointment.student_credit_percent = 100, 0
        appointment.changes.append(
            AppointmentChange(
                kind=ChangeKind.COMPLETED.value,
                created_at=appointment.ends_at,
            )
        )
        if self.rng.random() < data.RATING_RATE and add_rating(self.rng, self.now, appointment):
            self.counts["évaluations"] += 1

    def _credit_entries(self):
        entries = []
        for spec in self.deferred_credits:
            spec = dict(spec)
            order, appointment = spec.pop("order", None), spec.pop("appointment", None)
            entries.append(
                CreditEntry(
                    order_id=order.id if order else None,
                    appointment_id=appointment.id if appointment else None,
                    **spec,
                )
            )
        return entries

    def _redemptions(self, orders):
        return [
            CouponRedemption(
                coupon_id=o.coupon.id,
                order_id=o.id,
                user_id=o.user.id,
                discount_cents=o.discount_cents,
                created_at=o.paid_at,
            )
            for o in orders
            if o.coupon is not None
        ]

    def _write_refund(self, n, order, amount, reason, processed_at, amounts):
        refund = Refund(
            order_id=order.id,
            payment_id=order.payments[0].id,
            amount_cents=amount,
            reason=reason,
            status=RefundStatus.SUCCEEDED.value,
            gateway_refund_id=f"re_sim_demo_{n}",
            idempotency_key=f"demo-remboursement-{n}",
            created_by_id=self.staff.id,
            created_at=processed_at,
            processed_at=processed_at,
        )
        refund.items = [
            RefundItem(order_item=item, amount_cents=cents, cancels_appointment=True) for item, cents in amounts
        ]
        db.session.add(refund)


def build_history(rng, now, **context):
    """Write the demo history (the caller flushed the catalogue and commits); counts by label."""
    return HistoryBuilder(rng, now, **context).run()

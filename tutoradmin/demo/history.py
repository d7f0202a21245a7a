"""Demo history: about 18 months of paid orders, their sessions, cancellations, credits, refunds.

Sessions are planned first (on the 30-minute grid of local time, inside the tutors'
weekly hours, never overlapping for a tutor or a student), then priced in payment
order so that coupons and credit balances evolve as they would have. Rows that need
database ids (slot locks, credit entries, redemptions, refunds) come after one flush.
"""

from collections import defaultdict
from datetime import time, timedelta

from flask import current_app
from sqlalchemy import select

from .. import attendance
from ..coupons import CouponError, check_usable, discount_cents
from ..extensions import db
from ..formatting import local_datetime
from ..localtime import LOCAL_TZ, local_instant, to_local
from ..models import (
    ATTENDANCE_LABELS,
    Appointment,
    AppointmentChange,
    AppointmentStatus,
    Attendance,
    ChangeKind,
    CouponRedemption,
    CreditEntry,
    CreditKind,
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    PaymentStatus,
    PayoutStatus,
    Refund,
    RefundItem,
    RefundStatus,
    TutorPayout,
)
from ..occupancy import occupy
from ..pricing import allocate, session_price, tutor_earnings
from . import data
from .activity import add_meeting_link, add_rating, build_activity
from .schedule import Scheduler, weighted

MARK_COUNT_LABELS = {"no_show": "absences", "late_cancel": "annulations tardives"}


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
        today = now.astimezone(LOCAL_TZ).date()
        # Sessions that ended since then still wait for their tutor's mark.
        self.unmarked_since = local_instant(today - timedelta(days=data.UNMARKED_DAYS), time(0))
        self.grace_hours = current_app.config["ATTENDANCE_GRACE_HOURS"]
        self.present_shares = attendance.shares(Attendance.PRESENT, attendance.current_policy())
        self.marks = {}
        self.to_mark = []

    def run(self):
        self.scheduler.load_calendars()
        self._manual_credits()
        plans = self.scheduler.plan()
        orders = [self._order(n, plan) for n, plan in enumerate(plans, start=1)]
        refunds = self._refunds(orders)
        appointments = [item.appointment for order in orders for item in order.items]
        self.marks = self._demo_tutor_marks(appointments)
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
        self._mark_absences()
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
        self._correct_after_payment(appointments)
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

    def _demo_tutor_marks(self, appointments):
        """The demo tutor's sessions that went otherwise than présent, whatever the draw: {id(session): kind}."""
        demo_tutor = self.tutors[0]
        marked = sorted(
            (
                a
                for a in appointments
                if a.tutor_id == demo_tutor.id
                and a.status != AppointmentStatus.CANCELLED
                and a.ends_at <= self.unmarked_since
            ),
            key=lambda a: a.starts_at,
            reverse=True,
        )
        return {id(marked[rank - 1]): kind for rank, kind in data.DEMO_TUTOR_MARKS.items() if rank <= len(marked)}

    def _finish(self, appointment):
        """Meeting links on coming and recent sessions; past sessions marked (most présent), some rated."""
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
        if appointment.ends_at > self.unmarked_since:
            return
        kind = self.marks.get(id(appointment)) or weighted(self.rng, data.ATTENDANCE_RATES)
        if kind != Attendance.PRESENT:
            # Marked through the product's rule once the session has an id (credit, history, event).
            self.to_mark.append((appointment, kind))
            return
        self._mark_present(appointment, tutor)
        if self.rng.random() < data.RATING_RATE and add_rating(self.rng, self.now, appointment):
            self.counts["évaluations"] += 1

    def _mark_present(self, appointment, tutor):
        """Présent, by the tutor within the day or by default after the grace period (no event either way)."""
        if self.rng.random() < data.DEFAULT_MARK_RATE:
            at = min(attendance.default_mark_at(appointment, self.grace_hours), self.unmarked_since)
            actor_id, reason = None, attendance.DEFAULT_MARK_REASON
        else:
            at = appointment.ends_at + timedelta(minutes=self.rng.randint(10, 20 * 60))
            actor_id, reason = tutor.user_id, ATTENDANCE_LABELS[Attendance.PRESENT]
        appointment.status = AppointmentStatus.COMPLETED.value
        appointment.completed_at = appointment.attendance_marked_at = at
        appointment.attendance, appointment.attendance_marked_by_id = Attendance.PRESENT.value, actor_id
        appointment.tutor_share_percent, appointment.student_credit_percent = self.present_shares
        appointment.changes.append(
            AppointmentChange(kind=ChangeKind.ATTENDANCE.value, actor_id=actor_id, reason=reason, created_at=at)
        )

    def _mark_absences(self):
        """No-shows and late cancellations, marked with a note by the tutor or the office within the day."""
        actors = {"staff": self.staff}
        for appointment, kind in sorted(self.to_mark, key=lambda pair: pair[0].starts_at):
            who, note = self.rng.choice(data.ATTENDANCE_NOTES[kind])
            actor = actors.get(who) or appointment.tutor.user
            at = appointment.ends_at + timedelta(minutes=self.rng.randint(30, 20 * 60))
            attendance.mark(appointment, actor, kind, note, at)
            self.counts[MARK_COUNT_LABELS[kind]] += 1

    def _correct_after_payment(self, appointments):
        """The office learns late that one of the demo tutor's sessions of a paid month was a late cancellation:
        the student gets the credit, the tutor an adjustment on her next statement."""
        demo_tutor = self.tutors[0]
        paid = {
            (p.year, p.month): p
            for p in db.session.scalars(select(TutorPayout).where(TutorPayout.tutor_id == demo_tutor.id))
            if p.status == PayoutStatus.PAID
        }
        if not paid:
            return
        month = max(paid)
        candidates = [
            a
            for a in appointments
            if a.tutor_id == demo_tutor.id
            and a.attendance == Attendance.PRESENT
            and a.attendance_marked_by_id == demo_tutor.user_id
            and a.rating is None
            and (to_local(a.starts_at).year, to_local(a.starts_at).month) == month
        ]
        if not candidates:
            return
        appointment = max(candidates, key=lambda a: a.starts_at)
        at = max(self.now - timedelta(days=2), paid[month].paid_at + timedelta(days=1)).replace(microsecond=0)
        marked = attendance.mark(appointment, self.staff, Attendance.LATE_CANCEL, data.LATE_CORRECTION_NOTE, at)
        self.counts["corrections après paiement"] += 1
        # The statement waiting to be paid now shows the adjustment it will deduct.
        waiting = db.session.scalar(
            select(TutorPayout).where(
                TutorPayout.tutor_id == demo_tutor.id, TutorPayout.status == PayoutStatus.PENDING.value
            )
        )
        if marked.adjustment is not None and waiting is not None:
            waiting.adjustments_cents += marked.adjustment.amount_cents
            waiting.amount_cents = waiting.earnings_cents + waiting.adjustments_cents

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

"""Tutor payouts: paying a month's statement, and the adjustments carried to later statements.

The rules (SPEC §9, §10); statements.py shows them, earnings.py computes the money:

- A statement covers one local (America/Toronto) month and lists the tutor's sessions that start
  in it and are marked (completed: présent, absent or annulation tardive). A session earns its
  base earnings — the tutor earnings recorded on its order item (the tutor's hourly rate × 1, 1.5
  or 2 at booking time), or for a session the office booked without payment or moved to another
  tutor, the teaching tutor's current rate for its length — times the tutor's share of its mark.
- A month can be marked paid once it is over and none of its sessions is still scheduled (waiting
  for a mark: `flask complete-appointments` marks them by default after the grace period). The
  payout row then keeps a snapshot of minutes, earnings, adjustments and amount, and is locked:
  it can be neither paid again nor changed.
- A refund that cancels a session of an already paid month takes back that session's tutor
  earnings: a negative adjustment, deducted from the next statement that is paid (whichever month
  that is), once. A refund that does not cancel the session takes nothing back (it was taught).
  In a month not paid yet, a cancelled session simply drops out of the statement.
- An attendance mark corrected after its month was paid changes what the session pays: the
  difference (either sign) is an adjustment (attendance.py) on the next statement paid, with its
  reason, like a refund's.
- Adjustments are deducted whole, oldest first, as long as the amount paid stays positive or
  zero; one that does not fit waits for the following statement.
"""

from datetime import date, datetime

from sqlalchemy import and_, select

from . import earnings, events, outbox
from .audit import record
from .errors import DomainError
from .extensions import db
from .formatting import local_date, month_label
from .localtime import LOCAL_TZ, month_is_over, month_of, next_month, to_local
from .models import (
    Appointment,
    OutboxEventType,
    PayoutAdjustment,
    PayoutStatus,
    TutorPayout,
)
from .models.dates import BUSINESS_YEARS

CONFIRMATION_MAX_LENGTH = 100


class PayoutError(DomainError):
    """A payout change refused; the message is for the person who asked."""


# --- the months a statement can cover ----------------------------------------------------


def first_day(year, month):
    """The first local day of a month, refusing months the statements cannot hold."""
    if any(isinstance(n, bool) or not isinstance(n, int) for n in (year, month)):
        raise PayoutError("Mois invalide.")
    if not (year in BUSINESS_YEARS and 1 <= month <= 12):
        raise PayoutError(
            f"Mois invalide : choisissez un mois entre {BUSINESS_YEARS.start} et {BUSINESS_YEARS.stop - 1}."
        )
    return date(year, month, 1)


# --- adjustments and payout rows ----------------------------------------------------------


def adjustments_where(condition, lock=False):
    """Adjustments matching `condition`, oldest first."""
    query = select(PayoutAdjustment).where(condition).order_by(PayoutAdjustment.created_at, PayoutAdjustment.id)
    return db.session.scalars(query.with_for_update() if lock else query).all()


def pending_adjustments(tutor_id, lock=False):
    """Adjustments not yet deducted from any statement, oldest first."""
    return adjustments_where(
        and_(PayoutAdjustment.tutor_id == tutor_id, PayoutAdjustment.applied_payout_id.is_(None)),
        lock=lock,
    )


def fit(earnings_cents, pending):
    """Split pending adjustments into those deducted now and those carried to a later statement."""
    applied, carried, running = [], [], earnings_cents
    for adjustment in pending:
        if running + adjustment.amount_cents >= 0:
            running += adjustment.amount_cents
            applied.append(adjustment)
        else:
            carried.append(adjustment)
    return applied, carried


def find_payout(tutor_id, start, lock=False):
    """The payout row of a tutor's local month, if any."""
    query = select(TutorPayout).where(
        TutorPayout.tutor_id == tutor_id,
        TutorPayout.year == start.year,
        TutorPayout.month == start.month,
    )
    if lock:
        query = query.with_for_update()
    return db.session.scalar(query)


# --- paying a month ----------------------------------------------------------------------


def _paid_moment(paid_at, now):
    """A payment date keeps the local time of day it was recorded at; an instant is kept as is."""
    if isinstance(paid_at, datetime):
        if paid_at.tzinfo is None:
            raise PayoutError("Date de paiement invalide.")
        return paid_at
    if not isinstance(paid_at, date):
        raise PayoutError("Indiquez la date du paiement (AAAA-MM-JJ).")
    return datetime.combine(paid_at, to_local(now).time(), tzinfo=LOCAL_TZ)


def _locked_message(payout):
    return (
        f"Ce relevé est déjà payé (le {local_date(to_local(payout.paid_at).date())}, "
        f"confirmation {payout.confirmation_number}) : il ne peut plus être modifié."
    )


def mark_paid(tutor, year, month, confirmation_number, paid_at, actor, now):
    """Pay a tutor's month: snapshot its totals, deduct pending adjustments, lock it, audit it."""
    start = first_day(year, month)
    label = month_label(start)
    after_month = next_month(start)
    confirmation = (confirmation_number or "").strip()
    if not confirmation:
        raise PayoutError("Indiquez le numéro de confirmation du paiement.")
    if len(confirmation) > CONFIRMATION_MAX_LENGTH:
        raise PayoutError("Le numéro de confirmation ne peut dépasser 100 caractères.")
    today = to_local(now).date()
    if not month_is_over(start, now):
        raise PayoutError(
            f"Ce mois n'est pas terminé ({label}) : il pourra être payé à partir du {local_date(after_month)}."
        )
    paid_moment = _paid_moment(paid_at, now)
    paid_day = to_local(paid_moment).date()
    if paid_day > today:
        raise PayoutError("La date de paiement ne peut pas être dans le futur.")
    if paid_day < after_month:
        raise PayoutError(
            f"La date de paiement doit suivre la fin du mois payé (le {local_date(after_month)} ou après)."
        )

    payout = find_payout(tutor.id, start, lock=True)
    if payout is not None and payout.status == PayoutStatus.PAID:
        raise PayoutError(_locked_message(payout))
    # A cancellation in progress (it locks its session) finishes first and drops out of the totals;
    # one that comes later waits for this payment and then finds the month paid (an adjustment).
    db.session.execute(
        select(Appointment.id).where(earnings.in_month(tutor.id, start), earnings.payable()).with_for_update()
    )
    scheduled = earnings.scheduled_count(tutor.id, start)
    if scheduled:
        raise PayoutError(
            f"{scheduled} séance(s) de ce mois sont encore planifiées : elles doivent être "
            "terminées ou annulées avant le paiement."
        )
    minutes, earned_cents = earnings.month_total(tutor.id, start)
    applied, _ = fit(earned_cents, pending_adjustments(tutor.id, lock=True))
    if not minutes and not applied:
        raise PayoutError(f"Aucune séance terminée en {label} : il n'y a rien à payer.")

    before = None if payout is None else {"status": payout.status, "amount_cents": payout.amount_cents}
    if payout is None:
        payout = TutorPayout(tutor_id=tutor.id, year=year, month=month, created_at=now)
        db.session.add(payout)
    adjustments_cents = sum(adjustment.amount_cents for adjustment in applied)
    payout.minutes, payout.earnings_cents = minutes, earned_cents
    payout.adjustments_cents = adjustments_cents
    payout.amount_cents = earned_cents + adjustments_cents
    payout.status = PayoutStatus.PAID.value
    payout.confirmation_number = confirmation
    payout.paid_at = paid_moment
    payout.paid_by_id = getattr(actor, "id", None)
    db.session.flush()
    for adjustment in applied:
        adjustment.applied_payout_id = payout.id
    record(
        actor,
        "payout.paid",
        payout,
        now,
        before=before,
        after={
            "tutor_id": tutor.id,
            "month": f"{year}-{month:02d}",
            "minutes": minutes,
            "earnings_cents": earned_cents,
            "adjustments_cents": adjustments_cents,
            "amount_cents": payout.amount_cents,
            "confirmation_number": confirmation,
            "paid_at": paid_moment.isoformat(),
            "adjustment_ids": [adjustment.id for adjustment in applied],
        },
    )
    outbox.emit(OutboxEventType.PAYOUT_PAID, events.payout_paid(payout), f"payout.paid:payout:{payout.id}", now)
    return payout


# --- refunds after payment ---------------------------------------------------------------


def record_refund_adjustment(order_item, amount_cents, reason, now):
    """Take back a refunded session's tutor earnings when its month is already paid.

    Call it for each session a refund cancels (a refund that leaves the session in place takes
    nothing back: it was taught). `amount_cents` is the tutor earnings taken back, positive —
    normally the session's own tutor earnings, never what the student is refunded; None means
    all of them. Returns the negative PayoutAdjustment, deducted from the next statement paid, or
    None when nothing is owed back: no session, its month not paid yet (the cancelled session
    drops out of that statement), or the session cancelled before the month was paid. Calling it
    again for the same order item returns the first adjustment.
    """
    reason = (reason or "").strip()
    if not reason:
        raise PayoutError("Indiquez le motif de l'ajustement.")
    existing = db.session.scalar(select(PayoutAdjustment).where(PayoutAdjustment.order_item_id == order_item.id))
    if existing is not None:
        return existing
    appointment = order_item.appointment
    if appointment is None:
        return None
    payout = find_payout(appointment.tutor_id, month_of(appointment.starts_at))
    if payout is None or payout.status != PayoutStatus.PAID:
        return None
    if appointment.cancelled_at is not None and appointment.cancelled_at < payout.paid_at:
        return None
    earned = earnings.of_session(appointment.id)
    if amount_cents is None:
        amount_cents = earned
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or not (0 < amount_cents <= earned):
        raise PayoutError(
            "Montant d'ajustement invalide : il doit être positif et ne peut dépasser les gains "
            "du tuteur pour cette séance."
        )
    adjustment = PayoutAdjustment(
        tutor_id=appointment.tutor_id,
        amount_cents=-amount_cents,
        reason=f"Séance du {local_date(to_local(appointment.starts_at).date())} remboursée après paiement : {reason}",
        order_item_id=order_item.id,
        source_payout_id=payout.id,
        created_at=now,
    )
    db.session.add(adjustment)
    db.session.flush()
    return adjustment

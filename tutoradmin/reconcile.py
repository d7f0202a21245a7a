"""The nightly check of the gateway's recent PaymentIntents against our orders (SPEC §11).

What the webhook missed is applied the way the webhook would have applied it: a payment that
succeeded books its order (fulfilment.payment_succeeded), a canceled one fails its pending order
(checkout.abandon). Anything else that disagrees (amounts, a payment we do not know, a status we
cannot explain) is flagged for staff and reported, never corrected by guessing.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from . import checkout, fulfilment
from .formatting import money
from .gateway_sync import flag, locked_payment
from .models import OrderStatus, PaymentStatus

DEFAULT_DAYS = 3
OPEN_PAYMENT_STATUSES = (PaymentStatus.PENDING.value, PaymentStatus.REQUIRES_ACTION.value)


@dataclass
class Reconciliation:
    """What one run found and did."""

    checked: int = 0
    booked: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    problems: list = field(default_factory=list)

    def summary(self):
        """The run in French, one line each, for the cron mail."""
        lines = [
            f"Paiements vérifiés chez Stripe : {self.checked}.",
            f"Commandes payées enregistrées : {len(self.booked)}{_ids(self.booked)}.",
            f"Commandes annulées chez Stripe marquées échouées : {len(self.failed)}{_ids(self.failed)}.",
        ]
        if self.problems:
            lines.append(f"À vérifier par l'équipe : {len(self.problems)}.")
            lines.extend(f"  - {problem}" for problem in self.problems)
        else:
            lines.append("Aucun écart à vérifier.")
        return lines


def _ids(order_ids):
    return f" ({', '.join(f'#{i}' for i in order_ids)})" if order_ids else ""


def reconcile_payments(now, gateway, days=DEFAULT_DAYS):
    """Compare the PaymentIntents of the last `days` days with our payments; the caller commits."""
    result = Reconciliation()
    for intent in gateway.recent_payments(now - timedelta(days=days)):
        result.checked += 1
        _reconcile(intent, now, gateway, result)
    return result


def _problem(result, order, reason, now):
    flag(order, reason, now)
    result.problems.append(f"Commande #{order.id} : {reason}")


def _reconcile(intent, now, gateway, result):
    payment = locked_payment(intent.payment_id)
    if payment is None:
        result.problems.append(
            f"Paiement {intent.payment_id} ({money(intent.amount_cents)}, {intent.status}) "
            "inconnu ici : aucune commande ne lui correspond."
        )
        return
    order = payment.order
    if intent.amount_cents != payment.amount_cents or intent.currency.lower() != order.currency.lower():
        _problem(
            result,
            order,
            f"montant différent chez Stripe pour le paiement {intent.payment_id} : "
            f"{money(intent.amount_cents)} ({intent.currency.upper()}) au lieu de {money(payment.amount_cents)}",
            now,
        )
        return
    if intent.status == "succeeded":
        _succeeded(intent, payment, order, now, gateway, result)
    elif intent.status == "canceled":
        _canceled(intent, payment, order, now, gateway, result)
    elif payment.status == PaymentStatus.SUCCEEDED:
        _problem(
            result,
            order,
            f"paiement {intent.payment_id} réussi ici mais « {intent.status} » chez Stripe",
            now,
        )


def _succeeded(intent, payment, order, now, gateway, result):
    if payment.status == PaymentStatus.SUCCEEDED:
        return
    booked_already = order.status in fulfilment.BOOKED_STATUSES
    fulfilment.payment_succeeded(intent.payment_id, now, gateway)
    if booked_already:
        # Another payment of the same order booked it: the card was charged twice.
        _problem(
            result,
            order,
            f"paiement {intent.payment_id} réussi chez Stripe alors que la commande était déjà payée : à rembourser",
            now,
        )
    else:
        result.booked.append(order.id)


def _canceled(intent, payment, order, now, gateway, result):
    if payment.status == PaymentStatus.SUCCEEDED:
        _problem(result, order, f"paiement {intent.payment_id} réussi ici mais annulé chez Stripe", now)
        return
    payment.status = PaymentStatus.CANCELED.value
    still_open = any(p.status in OPEN_PAYMENT_STATUSES for p in order.payments)
    if order.status == OrderStatus.PENDING and not still_open:
        # Nobody can pay a canceled PaymentIntent: the order is abandoned, its coupon use given back.
        checkout.abandon(order, gateway)
        result.failed.append(order.id)

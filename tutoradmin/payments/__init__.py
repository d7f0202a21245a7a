"""The payment gateway: Stripe when keys are configured, the offline simulator otherwise.

This package is the only place that imports `stripe`. Both gateways speak the same
interface and deliver their outcomes as Stripe-shaped events, signed the way Stripe
signs them, to the same webhook endpoint.
"""

from .base import (
    CARD_DECLINED,
    Card,
    GatewayError,
    GatewayPayment,
    PaymentStart,
    RefundResult,
    SignatureError,
)


def get_gateway(config):
    """The gateway the settings ask for (Stripe only when a secret key is set)."""
    if config.get("STRIPE_SECRET_KEY"):
        from .stripe_gateway import StripeGateway

        return StripeGateway(config)
    from .simulated import SimulatedGateway

    return SimulatedGateway(config)


__all__ = [
    "CARD_DECLINED",
    "Card",
    "GatewayError",
    "GatewayPayment",
    "PaymentStart",
    "RefundResult",
    "SignatureError",
    "get_gateway",
]

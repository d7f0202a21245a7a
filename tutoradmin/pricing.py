"""What a session costs the student and earns the tutor, in integer cents."""

from .errors import DomainError
from .models import SESSION_DURATIONS

#: The highest hourly rate, course or tutor, the office may set (1 000,00 $): far above any real rate,
#: and low enough that prices, order totals and monthly earnings stay within the INTEGER columns.
MAX_HOURLY_RATE_CENTS = 100_000


class PricingError(DomainError):
    """A price that cannot be computed, such as for a duration no session has."""


def _scaled(hourly_cents, duration_minutes):
    if duration_minutes not in SESSION_DURATIONS:
        raise PricingError("Durée invalide : choisissez 60, 90 ou 120 minutes.")
    # Hourly rate × 1, 1.5 or 2, rounded half up to the cent.
    return (hourly_cents * duration_minutes + 30) // 60


def session_price(course, duration_minutes):
    """Student price: the course rate, whoever the tutor is."""
    return _scaled(course.rate_cents, duration_minutes)


def tutor_earnings(tutor, duration_minutes):
    """Tutor pay for one session: the tutor's hourly rate for its length."""
    return _scaled(tutor.hourly_rate_cents, duration_minutes)


def allocate(total_cents, weights):
    """Split `total_cents` in proportion to `weights`, exactly (largest remainder first)."""
    weight_sum = sum(weights)
    if total_cents == 0 or weight_sum == 0:
        return [0] * len(weights)
    shares = [total_cents * w // weight_sum for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total_cents * weights[i] % weight_sum), i))
    for i in remainders[: total_cents - sum(shares)]:
        shares[i] += 1
    return shares

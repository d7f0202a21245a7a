"""Session prices and tutor pay in integer cents; exact splitting of an amount."""

import random
from types import SimpleNamespace

import pytest

from tutoradmin.pricing import PricingError, allocate, session_price, tutor_earnings


@pytest.mark.parametrize("duration, price", [(60, 4500), (90, 6750), (120, 9000)])
def test_a_session_costs_the_course_rate_times_one_one_and_a_half_or_two(duration, price):
    assert session_price(SimpleNamespace(rate_cents=4500), duration) == price


@pytest.mark.parametrize("duration, pay", [(60, 2500), (90, 3750), (120, 5000)])
def test_a_tutor_earns_the_hourly_rate_times_the_same_factor(duration, pay):
    assert tutor_earnings(SimpleNamespace(hourly_rate_cents=2500), duration) == pay


@pytest.mark.parametrize(
    "rate, duration, price",
    [
        (4501, 90, 6752),  # 6751.5 rounds half up
        (4499, 90, 6749),  # 6748.5 rounds half up
        (3333, 90, 5000),  # 4999.5
        (4501, 60, 4501),
        (4501, 120, 9002),
    ],
)
def test_odd_cents_round_half_up_to_the_cent(rate, duration, price):
    assert session_price(SimpleNamespace(rate_cents=rate), duration) == price
    assert isinstance(session_price(SimpleNamespace(rate_cents=rate), duration), int)


@pytest.mark.parametrize("duration", [0, 30, 45, 61, 180, -60])
def test_other_durations_are_refused_in_french(duration):
    with pytest.raises(PricingError, match="Durée invalide"):
        session_price(SimpleNamespace(rate_cents=4500), duration)


def test_allocate_splits_an_amount_in_proportion_and_to_the_exact_cent():
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(1000, [4500, 9000]) == [333, 667]
    assert allocate(2250, [4500, 6750, 9000]) == [500, 750, 1000]


def test_allocate_gives_the_leftover_cents_to_the_largest_remainders_first():
    # Exact shares 16.83, 33.67 and 50.5: the two leftover cents go to the two largest fractions.
    assert allocate(101, [1, 2, 3]) == [17, 34, 50]


def test_allocate_of_nothing_or_over_nothing_is_zeros():
    assert allocate(0, [1, 2]) == [0, 0]
    assert allocate(500, [0, 0]) == [0, 0]
    assert allocate(500, []) == []


def test_allocate_always_sums_exactly_and_stays_within_a_cent_of_the_exact_share():
    rng = random.Random(4)
    for _ in range(500):
        weights = [rng.choice([0, 4500, 6750, 9000, rng.randint(1, 20000)]) for _ in range(rng.randint(1, 8))]
        total = rng.randint(0, sum(weights) or 1)
        shares = allocate(total, weights)
        assert sum(shares) == total or sum(weights) == 0
        for share, weight in zip(shares, weights, strict=True):
            exact = total * weight / sum(weights) if sum(weights) else 0
            assert abs(share - exact) < 1
            assert share >= 0

"""Which way a plan change goes, by monthly rate (billing.plan_changes, pure)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.plan_changes import change_direction, monthly_rate


@pytest.mark.parametrize(
    "amount, interval, count, rate",
    [(2000, "month", 1, Decimal(2000)), (24000, "year", 1, Decimal(2000)),
     (6000, "month", 3, Decimal(2000)), (1200, "week", 1, Decimal(5200)),
     (990, None, None, Decimal(990)), (0, None, None, Decimal(0))],
)
def test_monthly_rates(amount, interval, count, rate):
    assert monthly_rate(amount, interval, count) == rate


@pytest.mark.parametrize(
    "current, target, direction",
    [((2000, "month", 1), (5000, "month", 1), "upgrade"),
     ((5000, "month", 1), (2000, "month", 1), "downgrade"),
     ((2000, "month", 1), (20000, "year", 1), "downgrade"),  # a yearly discount
     ((2000, "month", 1), (24000, "year", 1), "upgrade"),  # same rate: takes effect now
     ((0, None, None), (2000, "month", 1), "upgrade")],
)
def test_change_direction_by_monthly_rate(current, target, direction):
    assert change_direction(monthly_rate(*current), monthly_rate(*target)) == direction


@given(st.integers(0, 10**9), st.integers(0, 10**9),
       st.sampled_from(["week", "month", "year"]), st.integers(1, 12))
def test_a_dearer_price_of_the_same_interval_is_never_a_downgrade(a, b, interval, count):
    low, high = sorted((a, b))
    assert change_direction(monthly_rate(low, interval, count),
                            monthly_rate(high, interval, count)) == "upgrade"

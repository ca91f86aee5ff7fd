"""What coupons take off an amount, and in which billing cycles they still apply."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.discounts import (
    applies_in_cycle,
    cycle_limit,
    discount_amount,
    discounted,
    trial_extension_days,
)

amounts = st.integers(min_value=0, max_value=10**15)


def test_save20_takes_400_off_2000_leaving_1600():
    result = discounted("percentage", 20, 2000)
    assert (result.discount, result.final) == (400, 1600)


@pytest.mark.parametrize(
    "coupon_type, value, amount, discount",
    [
        ("percentage", 20, 1000, 200),  # the client's own example
        ("percentage", 100, 2000, 2000),
        ("percentage", 1, 0, 0),
        ("percentage", 15, 990, 149),  # 148.5 rounds half-up
        ("percentage", 15, 970, 146),  # 145.5 rounds half-up
        ("percentage", 33, 1, 0),  # 0.33 rounds down
        ("percentage", 50, 1, 1),  # 0.5 rounds up
        ("fixed", 500, 2000, 500),
        ("fixed", 5000, 2000, 2000),  # never more than the amount
        ("fixed", 500, 0, 0),
        ("trial_extension", 14, 2000, 0),
    ],
)
def test_discounts_table(coupon_type, value, amount, discount):
    assert discount_amount(coupon_type, value, amount) == discount


@pytest.mark.parametrize(
    "args, error",
    [
        (("percentage", 101, 100), ValueError),
        (("percentage", -1, 100), ValueError),
        (("fixed", 10, -1), ValueError),
        (("voucher", 10, 100), ValueError),
        (("fixed", 10, 1.5), TypeError),
        (("fixed", True, 100), TypeError),
    ],
)
def test_nonsense_is_refused(args, error):
    with pytest.raises(error):
        discount_amount(*args)


@given(amount=amounts, percent=st.integers(min_value=0, max_value=100))
def test_a_percentage_is_the_exact_share_rounded_half_up(amount, percent):
    exact = Fraction(amount * percent, 100)
    discount = discount_amount("percentage", percent, amount)
    assert abs(discount - exact) <= Fraction(1, 2)
    assert discount - exact != Fraction(-1, 2)  # a half goes up
    assert 0 <= discount <= amount


@given(amount=amounts, value=amounts)
def test_a_fixed_discount_is_never_below_zero_nor_above_the_amount(amount, value):
    result = discounted("fixed", value, amount)
    assert result.discount == min(value, amount)
    assert result.final >= 0 and result.discount + result.final == amount


@given(amount=amounts, low=st.integers(0, 100), high=st.integers(0, 100))
def test_a_bigger_percentage_never_discounts_less(amount, low, high):
    low, high = sorted((low, high))
    assert discount_amount("percentage", low, amount) <= discount_amount("percentage", high, amount)


def test_only_a_trial_extension_extends_a_trial():
    assert trial_extension_days("trial_extension", 7) == 7
    assert trial_extension_days("percentage", 7) == 0


@pytest.mark.parametrize(
    "duration, months, interval, count, limit",
    [
        ("once", None, "month", 1, 1),
        ("forever", None, "month", 1, None),
        ("repeating", 3, "month", 1, 3),
        ("repeating", 3, "month", 3, 1),
        ("repeating", 4, "month", 3, 2),
        ("repeating", 3, "year", 1, 1),
        ("repeating", 13, "year", 1, 2),
        ("repeating", 3, "week", 1, 13),
        ("repeating", 1, "week", 2, 3),
    ],
)
def test_how_many_cycles_a_coupon_lasts(duration, months, interval, count, limit):
    assert cycle_limit(duration, months, interval, count) == limit


def test_a_three_month_coupon_on_a_monthly_plan_applies_to_cycles_one_to_three():
    assert [applies_in_cycle("repeating", 3, n) for n in range(1, 6)] == [
        True, True, True, False, False
    ]
    assert [applies_in_cycle("once", None, n) for n in (1, 2)] == [True, False]
    assert applies_in_cycle("forever", None, 240)


@pytest.mark.parametrize(
    "args",
    [("repeating", None, 1), ("repeating", 0, 1), ("sometimes", None, 1), ("once", None, 0),
     ("repeating", 3, 1, "fortnight")],
)
def test_a_bad_duration_or_cycle_is_refused(args):
    with pytest.raises((ValueError, TypeError)):
        applies_in_cycle(*args)


@given(months=st.integers(1, 240), interval=st.sampled_from(["week", "month", "year"]),
       count=st.integers(1, 12))
def test_a_repeating_coupon_covers_its_months_and_not_a_whole_cycle_more(months, interval, count):
    limit = cycle_limit("repeating", months, interval, count)
    per_cycle = {"week": Fraction(12, 52), "month": Fraction(1), "year": Fraction(12)}[interval]
    per_cycle *= count
    assert limit >= 1
    assert limit * per_cycle >= months  # its last cycle reaches the end of the months
    assert limit == 1 or (limit - 1) * per_cycle < months  # that cycle starts within them

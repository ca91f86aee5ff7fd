"""Prices of quantities under per-unit, graduated and volume prices (how money is shown:
test_money_format.py)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from math import floor

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.pricing import (
    InvalidTiers,
    Tier,
    graduated_amount,
    per_unit_amount,
    round_minor,
    tiered_amount,
    validate_tiers,
    volume_amount,
    volume_tier,
)

# An API plan: the first 1,000 calls at 1.00 each, the next 9,000 at 0.80, the rest at 0.50,
# with a 20.00 platform fee for entering the second tier.
API_CALLS = (
    Tier(up_to=1000, unit_amount=100),
    Tier(up_to=10000, unit_amount=80, flat_amount=2000),
    Tier(up_to=None, unit_amount=50),
)

# Seats sold by volume: 1-5 seats at 10.00, 6-20 at 8.00 plus a 5.00 setup, 21+ at 6.00.
SEATS = (
    Tier(up_to=5, unit_amount=1000),
    Tier(up_to=20, unit_amount=800, flat_amount=500),
    Tier(up_to=None, unit_amount=600),
)


def half_up(value: Fraction) -> int:
    """An independent half-up rounding of an exact fraction, for checking round_minor."""
    if value >= 0:
        return floor(value + Fraction(1, 2))
    return -floor(-value + Fraction(1, 2))


# --- the one rounding rule -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        (Decimal(0), 0),
        (Decimal("2.4999999"), 2),
        (Decimal("2.5"), 3),
        (Decimal("3.5"), 4),  # half-up, not banker's rounding
        (Decimal("-2.5"), -3),  # a credit rounds like the matching charge
        (Decimal("-2.4"), -2),
        (Decimal("1500.000000"), 1500),
        (Decimal("123456789012345678.5"), 123456789012345679),
        (42, 42),
    ],
)
def test_round_minor_rounds_half_up_to_a_whole_minor_unit(value, expected):
    assert round_minor(value) == expected


@pytest.mark.parametrize("value", [2.5, "2.5", True, None])
def test_round_minor_refuses_anything_but_decimal_or_int(value):
    with pytest.raises(TypeError):
        round_minor(value)


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity")])
def test_round_minor_refuses_non_finite_amounts(value):
    with pytest.raises(ValueError):
        round_minor(value)


@given(
    st.decimals(
        min_value=-(10**12), max_value=10**12, places=7, allow_nan=False, allow_infinity=False
    )
)
def test_round_minor_agrees_with_exact_half_up_rounding(value):
    assert round_minor(value) == half_up(Fraction(value))
    assert abs(Fraction(round_minor(value)) - Fraction(value)) <= Fraction(1, 2)


# --- per-unit prices -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scenario, unit_amount, quantity, expected",
    [
        ("three seats at MYR 9.90", 990, 3, 2970),
        ("no seats cost nothing", 990, 0, 0),
        ("half a unit at 9.99 rounds half-up", 999, Decimal("0.5"), 500),
        ("1.234567 GB at 1.00", 100, Decimal("1.234567"), 123),
        ("metered to the millionth", 3, Decimal("0.500000"), 2),
        ("a free unit price", 0, Decimal("12.5"), 0),
    ],
)
def test_per_unit_price(scenario, unit_amount, quantity, expected):
    assert per_unit_amount(unit_amount, quantity) == expected


@pytest.mark.parametrize("quantity", [Decimal(-1), -1, Decimal("NaN"), Decimal("-Infinity")])
def test_a_negative_or_non_finite_quantity_is_refused(quantity):
    with pytest.raises(ValueError):
        per_unit_amount(100, quantity)


@pytest.mark.parametrize("quantity", [1.5, "3", True])
def test_a_float_or_text_quantity_is_refused(quantity):
    with pytest.raises(TypeError):
        per_unit_amount(100, quantity)


def test_a_negative_unit_price_is_refused():
    with pytest.raises(ValueError):
        per_unit_amount(-1, 3)


# --- graduated tiers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scenario, quantity, expected",
    [
        ("no calls cost nothing, not even a flat fee", 0, 0),
        ("one call", 1, 100),
        ("the whole first tier", 1000, 100_000),
        ("one call into the second tier adds its platform fee", 1001, 100_000 + 80 + 2000),
        ("the whole second tier", 10000, 100_000 + 9000 * 80 + 2000),
        ("into the last tier", 12000, 100_000 + 9000 * 80 + 2000 + 2000 * 50),
        ("a fraction of a call", Decimal("0.5"), 50),
        ("a fraction past a boundary", Decimal("1000.25"), 100_000 + 20 + 2000),
        ("a fraction of a sen rounds once, at the end", Decimal("1000.006"), 102_000),
    ],
)
def test_graduated_price_charges_each_tier_at_its_own_rate(scenario, quantity, expected):
    assert graduated_amount(API_CALLS, quantity) == expected
    assert tiered_amount("graduated", API_CALLS, quantity) == expected


def test_a_graduated_total_is_rounded_once_not_per_tier():
    # 0.4 sen in each of two tiers: per-tier rounding would give 0, the exact total is 0.8 -> 1.
    tiers = (Tier(up_to=1, unit_amount=1), Tier(up_to=None, unit_amount=1))
    assert graduated_amount(tiers, Decimal("1.4")) == 1
    assert graduated_amount(tiers, Decimal("0.4")) == 0
    assert (
        graduated_amount(
            (Tier(up_to=Decimal("0.4"), unit_amount=1), Tier(up_to=None, unit_amount=1)),
            Decimal("0.8"),
        )
        == 1
    )


def test_a_single_unbounded_tier_is_a_per_unit_price_with_a_fee():
    tiers = (Tier(up_to=None, unit_amount=990, flat_amount=1000),)
    assert graduated_amount(tiers, 3) == 3 * 990 + 1000
    assert volume_amount(tiers, 3) == 3 * 990 + 1000


# --- volume tiers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scenario, quantity, expected",
    [
        ("no seats cost nothing, not even the first tier's fee", 0, 0),
        ("one seat", 1, 1000),
        ("five seats, the top of the first tier", 5, 5000),
        ("six seats move every seat to the second rate", 6, 6 * 800 + 500),
        ("twenty seats, bounds are inclusive", 20, 20 * 800 + 500),
        ("twenty-one seats", 21, 21 * 600),
        ("five and a half seats fall in the second tier", Decimal("5.5"), 4400 + 500),
    ],
)
def test_volume_price_charges_every_unit_at_the_rate_the_total_reaches(
    scenario, quantity, expected
):
    assert volume_amount(SEATS, quantity) == expected
    assert tiered_amount("volume", SEATS, quantity) == expected


def test_the_volume_tier_is_the_first_whose_bound_holds_the_quantity():
    assert volume_tier(SEATS, 0) == SEATS[0]
    assert volume_tier(SEATS, 5) == SEATS[0]
    assert volume_tier(SEATS, Decimal("5.000001")) == SEATS[1]
    assert volume_tier(SEATS, 10**12) == SEATS[2]


def test_an_unknown_tiers_mode_is_refused():
    with pytest.raises(ValueError):
        tiered_amount("stairstep", SEATS, 1)


def test_pricing_an_invalid_table_raises_with_its_problems():
    with pytest.raises(InvalidTiers) as raised:
        graduated_amount((Tier(up_to=10, unit_amount=1),), 5)
    assert raised.value.problems == [("tiers[0].upTo", "the last tier must have upTo null")]
    with pytest.raises(InvalidTiers):
        volume_amount((), 5)


# --- validating a tier table -----------------------------------------------------------------


@pytest.mark.parametrize(
    "scenario, tiers, problems",
    [
        ("a valid table", API_CALLS, []),
        ("a single unbounded tier", (Tier(None, 100),), []),
        (
            "decimal bounds",
            (Tier(Decimal("0.5"), 1), Tier(Decimal("1.000001"), 2), Tier(None, 3)),
            [],
        ),
        ("no tiers", (), [("tiers", "must contain at least one tier")]),
        (
            "last tier bounded",
            (Tier(10, 1), Tier(20, 1)),
            [("tiers[1].upTo", "the last tier must have upTo null")],
        ),
        (
            "unbounded tier before the end",
            (Tier(None, 1), Tier(None, 1)),
            [("tiers[0].upTo", "only the last tier may have upTo null")],
        ),
        (
            "bounds not ascending",
            (Tier(10, 1), Tier(5, 1), Tier(None, 1)),
            [("tiers[1].upTo", "must be greater than the previous tier's upTo (10)")],
        ),
        (
            "equal bounds",
            (Tier(10, 1), Tier(10, 1), Tier(None, 1)),
            [("tiers[1].upTo", "must be greater than the previous tier's upTo (10)")],
        ),
        ("zero bound", (Tier(0, 1), Tier(None, 1)), [("tiers[0].upTo", "must be greater than 0")]),
        (
            "negative bound",
            (Tier(-5, 1), Tier(None, 1)),
            [("tiers[0].upTo", "must be greater than 0")],
        ),
        (
            "negative unit amount",
            (Tier(None, -1),),
            [("tiers[0].unitAmount", "must not be negative")],
        ),
        (
            "negative flat amount",
            (Tier(None, 1, -500),),
            [("tiers[0].flatAmount", "must not be negative")],
        ),
        (
            "fractional amount",
            (Tier(None, Decimal("0.5")),),
            [("tiers[0].unitAmount", "must be an integer amount in minor units")],
        ),
        (
            "float bound",
            (Tier(1.5, 1), Tier(None, 1)),
            [("tiers[0].upTo", "must be a number or null")],
        ),
        (
            "bound finer than usage is stored",
            (Tier(Decimal("1.0000001"), 1), Tier(None, 1)),
            [("tiers[0].upTo", "must have at most 6 decimal places")],
        ),
        ("not a tier", ({"upTo": None},), [("tiers[0]", "must be a tier")]),
    ],
)
def test_validate_tiers(scenario, tiers, problems):
    assert validate_tiers(tiers) == problems


def test_validate_tiers_reports_every_problem_at_once():
    tiers = (Tier(None, -1), Tier(0, 1, -1), Tier(5, 1))
    assert validate_tiers(tiers) == [
        ("tiers[0].unitAmount", "must not be negative"),
        ("tiers[0].upTo", "only the last tier may have upTo null"),
        ("tiers[1].flatAmount", "must not be negative"),
        ("tiers[1].upTo", "must be greater than 0"),
        ("tiers[2].upTo", "the last tier must have upTo null"),
    ]


def test_trailing_zeros_do_not_count_as_decimal_places():
    assert validate_tiers((Tier(Decimal("2.50000000"), 1), Tier(None, 1))) == []


# --- properties of tier tables ---------------------------------------------------------------

quantities = st.decimals(
    min_value=0, max_value=10**7, places=6, allow_nan=False, allow_infinity=False
)


@st.composite
def tier_tables(draw):
    """Valid tier tables: ascending bounds (whole or with up to 6 places), non-negative amounts."""
    bounds = draw(
        st.lists(
            st.one_of(
                st.integers(1, 10**6),
                st.decimals(min_value=Decimal("0.000001"), max_value=10**6, places=6),
            ),
            max_size=5,
            unique_by=lambda bound: Decimal(bound),
        )
    )
    bounds = sorted(bounds, key=Decimal)
    amounts = st.integers(min_value=0, max_value=10**6)
    rows = [Tier(bound, draw(amounts), draw(st.integers(0, 10**5))) for bound in bounds]
    rows.append(Tier(None, draw(amounts), draw(st.integers(0, 10**5))))
    return tuple(rows)


def graduated_by_hand(tiers, quantity) -> int:
    """Sum each tier's slice with exact fractions and round half-up independently."""
    q = Fraction(quantity)
    total = Fraction(0)
    lower = Fraction(0)
    for tier in tiers:
        upper = q if tier.up_to is None else Fraction(tier.up_to)
        in_tier = max(Fraction(0), min(q, upper) - lower)
        if in_tier > 0:
            total += in_tier * tier.unit_amount + tier.flat_amount
        if tier.up_to is not None:
            lower = Fraction(tier.up_to)
    return half_up(total)


@given(tier_tables())
def test_generated_tables_are_valid(tiers):
    assert validate_tiers(tiers) == []


@given(tier_tables(), quantities)
def test_graduated_total_matches_a_sum_of_tier_slices(tiers, quantity):
    assert graduated_amount(tiers, quantity) == graduated_by_hand(tiers, quantity)


@given(tier_tables(), quantities, quantities)
def test_graduated_total_never_falls_as_quantity_grows(tiers, first, second):
    low, high = sorted((first, second))
    assert graduated_amount(tiers, low) <= graduated_amount(tiers, high)


@given(tier_tables(), quantities)
def test_volume_total_is_the_chosen_tiers_rate_times_quantity_plus_its_fee(tiers, quantity):
    chosen = next(t for t in tiers if t.up_to is None or Fraction(quantity) <= Fraction(t.up_to))
    expected = (
        0
        if quantity == 0
        else half_up(Fraction(quantity) * chosen.unit_amount + chosen.flat_amount)
    )
    assert volume_tier(tiers, quantity) == chosen
    assert volume_amount(tiers, quantity) == expected


@given(st.integers(0, 10**6), quantities)
def test_one_unbounded_tier_prices_like_a_per_unit_price(unit_amount, quantity):
    tiers = (Tier(None, unit_amount),)
    flat = per_unit_amount(unit_amount, quantity)
    assert graduated_amount(tiers, quantity) == flat
    assert volume_amount(tiers, quantity) == flat


class TestPriceAmount:
    """price_amount: a subscription's period amount from a price as stored."""

    def test_a_flat_price_times_seats(self):
        from billing.pricing import price_amount

        assert price_amount(amount=2000, quantity=3) == 6000

    def test_a_graduated_price_from_its_stored_tiers(self):
        from billing.pricing import price_amount

        tiers = [{"upTo": 5, "unitAmount": 1000, "flatAmount": 0},
                 {"upTo": None, "unitAmount": 500, "flatAmount": 0}]
        assert price_amount(amount=0, quantity=7, tiers_mode="graduated", tiers=tiers) == 6000
        assert price_amount(amount=0, quantity=7, tiers_mode="volume", tiers=tiers) == 3500

"""How money is shown (`format_money`) and the ISO 4217 currency table behind it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cynco.currencies import (
    ISO_4217_MINOR_UNITS,
    UnknownCurrency,
    is_iso_currency,
    minor_unit_exponent,
)
from cynco.money import format_money

# --- showing money ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount, currency, shown",
    [
        (990, "MYR", "MYR 9.90"),
        (500, "JPY", "JPY 500"),
        (1500, "KWD", "KWD 1.500"),
        (-990, "MYR", "-MYR 9.90"),
        (0, "MYR", "MYR 0.00"),
        (5, "MYR", "MYR 0.05"),
        (-5, "USD", "-USD 0.05"),
        (123_456_789, "MYR", "MYR 1,234,567.89"),
        (1_234_567, "JPY", "JPY 1,234,567"),
        (1, "BHD", "BHD 0.001"),
        (12345, "CLF", "CLF 1.2345"),
    ],
)
def test_format_money(amount, currency, shown):
    assert format_money(amount, currency) == shown


@pytest.mark.parametrize("currency", ["myr", "XXX", "XAU", "ABC", "", "HRK", "ANG"])
def test_format_money_refuses_a_code_outside_the_iso_table(currency):
    with pytest.raises(UnknownCurrency):
        format_money(100, currency)


@pytest.mark.parametrize("amount", [9.9, Decimal(990), True])
def test_format_money_takes_integer_minor_units_only(amount):
    with pytest.raises(TypeError):
        format_money(amount, "MYR")


@given(st.integers(-(10**15), 10**15), st.sampled_from(sorted(ISO_4217_MINOR_UNITS)))
def test_format_money_round_trips_to_the_amount(amount, currency):
    shown = format_money(amount, currency)
    sign = -1 if shown.startswith("-") else 1
    code, number = shown.lstrip("-").split(" ")
    assert code == currency
    assert sign * Decimal(number.replace(",", "")).scaleb(minor_unit_exponent(currency)) == amount


# --- the currency table ----------------------------------------------------------------------


def test_the_table_holds_every_active_iso_code_with_a_minor_unit():
    assert 155 <= len(ISO_4217_MINOR_UNITS) <= 180
    assert all(len(code) == 3 and code.isupper() for code in ISO_4217_MINOR_UNITS)
    assert set(ISO_4217_MINOR_UNITS.values()) == {0, 2, 3, 4}


@pytest.mark.parametrize(
    "codes, exponent",
    [
        ("JPY KRW VND CLP ISK UGX XAF XOF XPF PYG RWF KMF GNF DJF BIF VUV UYI", 0),
        ("MYR USD EUR GBP SGD IDR THB PHP AUD CNY INR XCG ZWG VES", 2),
        ("BHD IQD JOD KWD LYD OMR TND", 3),
        ("CLF UYW", 4),
    ],
)
def test_minor_unit_exponents(codes, exponent):
    for code in codes.split():
        assert minor_unit_exponent(code) == exponent, code


def test_withdrawn_and_unit_of_account_codes_are_not_currencies():
    for code in ("HRK", "ZWL", "ANG", "BGN", "VEF", "SLL", "XAU", "XDR", "XTS", "XXX"):
        assert not is_iso_currency(code), code


@pytest.mark.parametrize("code", ["MYR", "USD", "JPY", "KWD", "XCG"])
def test_is_iso_currency(code):
    assert is_iso_currency(code)
    assert not is_iso_currency(code.lower())


@pytest.mark.parametrize("code", [None, 458, "MY", "MYRR", " MYR"])
def test_is_iso_currency_refuses_anything_else(code):
    assert not is_iso_currency(code)
    with pytest.raises(UnknownCurrency):
        minor_unit_exponent(code)

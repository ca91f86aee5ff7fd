"""Money as people read it: the one formatting rule for amounts in minor units (pure; no
Django). The ISO 4217 table behind it is cynco.currencies."""

from __future__ import annotations

from decimal import Decimal

from cynco.currencies import minor_unit_exponent


def format_money(amount_minor: int, currency: str) -> str:
    """Show an amount the way the pricing table and invoices print it: "MYR 9.90".

    The code comes first, then the major units with thousands separated by commas and as many
    decimals as the currency's minor unit has: (990, "MYR") -> "MYR 9.90", (500, "JPY") ->
    "JPY 500", (1500, "KWD") -> "KWD 1.500", (123456789, "MYR") -> "MYR 1,234,567.89". A negative
    amount (a credit) puts the minus sign before the code: (-990, "MYR") -> "-MYR 9.90".
    Raises UnknownCurrency (a ValueError) for a code outside the ISO table.
    """
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise TypeError(f"amount must be an int of minor units, not {type(amount_minor).__name__}")
    exponent = minor_unit_exponent(currency)
    sign = "-" if amount_minor < 0 else ""
    major, minor = divmod(abs(amount_minor), 10**exponent)
    number = f"{major:,}" if exponent == 0 else f"{major:,}.{minor:0{exponent}d}"
    return f"{sign}{currency} {number}"


NOTHING = "—"


def show_money(amount, currency) -> str:
    """format_money for a display: an empty amount or currency shows as a dash, not an error."""
    if amount is None or not currency:
        return NOTHING
    return format_money(int(amount), currency)


def show_quantity(value) -> str:
    """A usage quantity without the storage's trailing zeros: 1.000000 -> "1", 2.5000 -> "2.5"."""
    if value is None:
        return NOTHING
    number = Decimal(value).normalize()
    return f"{number:,f}"

"""What a coupon takes off an amount, and for how many billing cycles it keeps doing so.

A coupon is `percentage` (value: whole percent, 1-100), `fixed` (value: minor units) or
`trial_extension` (value: days added to a trial; it takes nothing off an amount). Its duration is
`once` (the first cycle), `repeating` (the cycles that start within `duration_months` months of
the first) or `forever`.

A discount is never below 0 and never above the amount it applies to, and is rounded once, by
`billing.pricing.round_minor` (half-up), like every other amount of the project.

This module is pure: no Django, no database, no clock. Services call it with plain values.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction
from math import ceil
from typing import Literal

from billing.pricing import MONEY_CONTEXT, round_minor

CouponType = Literal["percentage", "fixed", "trial_extension"]
Duration = Literal["once", "repeating", "forever"]
COUPON_TYPES: tuple[str, ...] = ("percentage", "fixed", "trial_extension")
DURATIONS: tuple[str, ...] = ("once", "repeating", "forever")

# How many months one billing cycle of each interval lasts (a year of 52 weeks is 12 months).
MONTHS_PER_INTERVAL = {"week": Fraction(12, 52), "month": Fraction(1), "year": Fraction(12)}


@dataclass(frozen=True)
class Discounted:
    """An amount after a coupon: `discount` taken off `amount` leaves `final`."""

    amount: int
    discount: int

    @property
    def final(self) -> int:
        return self.amount - self.discount


def discount_amount(coupon_type: CouponType, value: int, amount: int) -> int:
    """The minor units a coupon of `coupon_type` and `value` takes off `amount` (>= 0).

    Percentage: `value`% of the amount, rounded half-up (20% of 2000 is 400). Fixed: `value`,
    but never more than the amount. Trial extension: nothing (it lengthens the trial instead).
    """
    _require_int(amount, "amount")
    _require_int(value, "value")
    if amount < 0:
        raise ValueError(f"amount must be >= 0, not {amount}")
    if value < 0:
        raise ValueError(f"value must be >= 0, not {value}")
    if coupon_type == "percentage":
        if value > 100:
            raise ValueError(f"a percentage is at most 100, not {value}")
        with localcontext(MONEY_CONTEXT):
            discount = round_minor(Decimal(amount) * value / 100)
    elif coupon_type == "fixed":
        discount = value
    elif coupon_type == "trial_extension":
        discount = 0
    else:
        raise ValueError(f"unknown coupon type {coupon_type!r}")
    return max(0, min(discount, amount))


def discounted(coupon_type: CouponType, value: int, amount: int) -> Discounted:
    """`amount` with its discount and what is left to pay."""
    return Discounted(amount=amount, discount=discount_amount(coupon_type, value, amount))


def trial_extension_days(coupon_type: CouponType, value: int) -> int:
    """Days a coupon adds to a trial: its value for a trial extension, else 0."""
    return value if coupon_type == "trial_extension" else 0


def cycle_limit(
    duration: Duration, duration_months: int | None, interval: str = "month",
    interval_count: int = 1,
) -> int | None:
    """How many billing cycles a coupon applies to on a price billed every `interval_count`
    `interval`s; None for forever.

    Repeating: the cycles that start within `duration_months` of the first one, i.e.
    ceil(duration_months / months per cycle); at least one. So 3 months is 3 monthly cycles,
    1 yearly cycle, or 13 weekly cycles (3 months are 12.9 weeks).
    """
    if duration == "once":
        return 1
    if duration == "forever":
        return None
    if duration != "repeating":
        raise ValueError(f"unknown duration {duration!r}")
    _require_int(duration_months, "duration_months")
    _require_int(interval_count, "interval_count")
    if duration_months < 1:
        raise ValueError(f"duration_months must be >= 1, not {duration_months}")
    if interval not in MONTHS_PER_INTERVAL or interval_count < 1:
        raise ValueError(f"unknown billing interval {interval_count} x {interval!r}")
    months_per_cycle = MONTHS_PER_INTERVAL[interval] * interval_count
    return max(1, ceil(Fraction(duration_months) / months_per_cycle))


def applies_in_cycle(
    duration: Duration, duration_months: int | None, cycle: int, interval: str = "month",
    interval_count: int = 1,
) -> bool:
    """Whether a coupon still applies in billing cycle `cycle` (1 is the first, redeemed one)."""
    _require_int(cycle, "cycle")
    if cycle < 1:
        raise ValueError(f"cycles count from 1, not {cycle}")
    limit = cycle_limit(duration, duration_months, interval, interval_count)
    return limit is None or cycle <= limit


def _require_int(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")

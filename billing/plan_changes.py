"""Which way a change of plan goes: compare two prices as monthly rates.

Pure: no Django. Subscribe and the plans list use the same rule, so the scenario a customer is
shown is the one that subscribing then follows.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

Direction = Literal["upgrade", "downgrade"]

# An interval as (intervals, months): 52 weeks make 12 months.
_PER_MONTHS = {"week": (52, 12), "month": (1, 1), "year": (1, 12)}


def monthly_rate(amount: int, interval: str | None, count: int | None) -> Decimal:
    """What a price costs per month: 2000 a month -> 2000, 24000 a year -> 2000, 1000 a week
    -> 4333.33…. A one-off price (no interval) counts as its amount; no price counts as 0."""
    if interval is None:
        return Decimal(amount)
    intervals, months = _PER_MONTHS[interval]
    return Decimal(amount) * intervals / (months * (count or 1))


def change_direction(current_rate: Decimal, target_rate: Decimal) -> Direction:
    """A move to a higher monthly rate is an upgrade (now), to a lower one a downgrade (at the
    end of the period). An equal rate counts as an upgrade: it takes effect now, and the credit
    for the unused period pays for the new one exactly."""
    return "downgrade" if target_rate < current_rate else "upgrade"

"""The arithmetic of entitlements, with no Django: what is left, whether a use is allowed, what
overage costs, which usage threshold was crossed, and where a balance's period starts and ends.

Amounts are Decimals; prices and caps are integers in minor units. A balance's `left` is
`granted - used - reserved`: an open reservation counts as used (API.md, check with lock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from billing.periods import period_containing

ZERO = Decimal(0)
THRESHOLD_PERCENT = 80
EXHAUSTED = 100


@dataclass
class Standing:
    """What check and track decide on: one balance row as it is now."""

    granted: Decimal = ZERO
    used: Decimal = ZERO
    reserved: Decimal = ZERO
    unlimited: bool = False
    overage_allowed: bool = False
    overage_price: int | None = None
    spend_cap: int | None = None

    @property
    def left(self) -> Decimal:
        return self.granted - self.used - self.reserved

    @property
    def usage(self) -> Decimal:
        return self.used + self.reserved

    def overage_cost(self, extra: Decimal = ZERO) -> Decimal:
        """The exact cost, in minor units, of this period's overage after `extra` more units
        (nothing where overage is not allowed: usage past the allowance is not billed then)."""
        if not self.overage_allowed or not self.overage_price:
            return ZERO
        return max(self.usage + extra - self.granted, ZERO) * self.overage_price

    def accrued_cents(self) -> int:
        return int(self.overage_cost().quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def cap_allows(self, extra: Decimal) -> bool:
        """Whether `extra` more units keep the period's overage cost within the spend cap."""
        return self.spend_cap is None or self.overage_cost(extra) <= self.spend_cap

    def may_use(self, required: Decimal) -> bool:
        """check's answer (API.md): unlimited, or enough left, or overage within the cap."""
        if self.unlimited or self.left >= required:
            return True
        return self.overage_allowed and self.cap_allows(required)

    def usable_after(self) -> bool:
        """track's `allowed`: the feature can still be used after this track."""
        if self.unlimited or self.left > 0:
            return True
        if not self.overage_allowed:
            return False
        return self.spend_cap is None or not self.overage_price or (
            self.overage_cost() < self.spend_cap
        )


def threshold_level(standing: Standing) -> int:
    """0, 80 or 100: the highest usage threshold the balance is at (never for unlimited or
    nothing granted)."""
    if standing.unlimited or standing.granted <= 0:
        return 0
    percent = standing.usage * 100 / standing.granted
    if percent >= EXHAUSTED:
        return EXHAUSTED
    return THRESHOLD_PERCENT if percent >= THRESHOLD_PERCENT else 0


def period_at(
    anchor: datetime, interval: str | None, count: int, anchor_day: int | None, at: datetime
) -> tuple[datetime, datetime | None]:
    """The period of the schedule anchored at `anchor` that holds `at`; a null interval is one
    period that never ends."""
    if interval is None:
        return anchor, None
    if at < anchor:
        at = anchor
    if interval == "day":
        length = timedelta(days=count)
        start = anchor + ((at - anchor) // length) * length
        return start, start + length
    day = anchor_day if interval != "week" else None
    period = period_containing(anchor, interval, count, at, day)
    return period.start, period.end


def consume_non_resetting(
    recurring: Decimal, used: Decimal, remaining: list[Decimal]
) -> list[Decimal]:
    """What is left of each never-resetting grant (oldest first) when a period closes: usage
    spends the period's recurring allowance first, then those grants in order."""
    beyond = max(used - recurring, ZERO)
    left = []
    for amount in remaining:
        spent = min(amount, beyond)
        beyond -= spent
        left.append(amount - spent)
    return left

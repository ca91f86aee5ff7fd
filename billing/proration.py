"""Proration: what is left of a paid period, and what an upgrade or an immediate cancel costs.

A period [start, end) that was paid in advance is used up evenly, to the microsecond: at any
instant the unused part is paid x (end - at) / (end - start), rounded once with
pricing.round_minor (half-up). The API's worked example holds exactly: Pro paid 2000 for a
30-day month, upgraded to Enterprise at 5000 a quarter of the way in, leaves 1500 unused, so
the upgrade costs 5000 - 1500 = 3500.

All amounts are integer minor units of one currency; the caller makes sure the old and new
prices are in the same currency. This module is pure: no Django, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, localcontext

from billing.periods import require_utc
from billing.pricing import MONEY_CONTEXT, round_minor

_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class UpgradePreview:
    """What an immediate upgrade costs.

    `line_items` are (title, amount) pairs: the new plan at its full price, then the credit for
    the unused part of the old plan as a negative amount (always present, 0 when nothing is
    left). `total` is their sum and may be negative when the credit is larger than the new
    price; `amount_due` is what is charged now (never negative) and `credit_carried` is the
    excess credit that goes to the customer's credit balance (account 2100) for later invoices.
    Always amount_due - credit_carried == total, and one of the two is 0.
    """

    line_items: tuple[tuple[str, int], ...]
    total: int
    amount_due: int
    credit: int
    credit_carried: int


def unused_credit(
    paid_amount: int, period_start: datetime, period_end: datetime, at: datetime
) -> int:
    """The part of `paid_amount`, paid for [period_start, period_end), not yet used at `at`.

    Proportional to the time left, rounded half-up to the minor unit: all of it when `at` is at
    or before the start, 0 when `at` is at or after the end. It is never negative, never more
    than paid_amount, and never grows as `at` moves later.
    """
    _require_amount(paid_amount, "paid_amount")
    require_utc(period_start, "period_start")
    require_utc(period_end, "period_end")
    require_utc(at, "at")
    if period_end <= period_start:
        raise ValueError("period_end must be after period_start")
    if at <= period_start:
        return paid_amount
    if at >= period_end:
        return 0
    remaining = (period_end - at) // _MICROSECOND
    length = (period_end - period_start) // _MICROSECOND
    with localcontext(MONEY_CONTEXT):
        return round_minor(Decimal(paid_amount) * remaining / length)


def upgrade_preview(
    old_name: str,
    old_paid: int,
    old_start: datetime,
    old_end: datetime,
    new_name: str,
    new_amount: int,
    at: datetime,
) -> UpgradePreview:
    """Price an upgrade at `at` from a plan paid `old_paid` for [old_start, old_end) to a plan
    at `new_amount`.

    The new period starts at `at` and is charged in full; the unused part of the old period is
    credited as a line titled "Credit for <old name>". Pro at 2000, 25% into its period,
    to Enterprise at 5000 gives [("Enterprise", 5000), ("Credit for Pro", -1500)] and total and
    amount due 3500. When the credit exceeds the new price, amount_due is 0 and the rest is
    returned as credit_carried.
    """
    _require_amount(new_amount, "new_amount")
    credit = unused_credit(old_paid, old_start, old_end, at)
    total = new_amount - credit
    return UpgradePreview(
        line_items=((new_name, new_amount), (f"Credit for {old_name}", -credit)),
        total=total,
        amount_due=max(total, 0),
        credit=credit,
        credit_carried=max(-total, 0),
    )


def refund_for_immediate_cancel(
    paid_amount: int, period_start: datetime, period_end: datetime, at: datetime
) -> int:
    """What to refund when a subscription paid `paid_amount` for [period_start, period_end)
    is canceled immediately at `at`: exactly its unused credit (see unused_credit)."""
    return unused_credit(paid_amount, period_start, period_end, at)


def _require_amount(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int of minor units, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, not {value}")

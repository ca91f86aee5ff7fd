"""Results of check, track, locks, balances, entities, spend caps and usage events.

Usage amounts (balances, allowances, usage) are Decimal: the server keeps 6 decimal places.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from cynco_billing.models.base import Model


class CheckResult(Model):
    """May the customer use the feature? `balance`, `limit`, `granted` and `usage` are None
    for a boolean feature (and all but `usage` for an unlimited one). `lock_id` is set when a
    lock was asked for (None when refused)."""

    allowed: bool
    balance: Decimal | None
    limit: Decimal | None
    granted: Decimal | None
    usage: Decimal | None
    unlimited: bool
    overage_allowed: bool
    lock_id: str | None = None


class TrackResult(Model):
    """`recorded` is False for a duplicate (`duplicate`: an earlier call with the same
    idempotency key recorded it) and when the spend cap refused it (`spend_cap_exceeded`)."""

    recorded: bool
    allowed: bool
    balance: Decimal | None
    limit: Decimal | None
    unlimited: bool
    duplicate: bool
    spend_cap_exceeded: bool = False


class TrackBatchError(Model):
    """What `track` would have raised for this event: its code, message and details."""

    code: str
    message: str
    details: list[dict[str, Any]] = []


class TrackBatchItem(Model):
    """One event's answer, by `index` in the batch: `status` accepted (recorded), duplicate
    (its idempotency key was recorded before), denied (the spend cap refused it) or error
    (`error` says why); `balance` after it, except for errors (None when unlimited)."""

    index: int
    status: str
    balance: Decimal | None = None
    error: TrackBatchError | None = None


class TrackBatchResult(Model):
    results: list[TrackBatchItem]


class FinalizeLockResult(Model):
    """`adjusted`: what was reserved minus what was used (negative when more was used)."""

    success: bool
    adjusted: Decimal


class Balance(Model):
    id: str
    customer_id: str
    feature_id: str
    balance: Decimal | None
    granted: Decimal | None
    usage: Decimal
    limit: Decimal | None
    unlimited: bool
    reset_interval: str
    period_start: datetime
    period_end: datetime | None


class Entity(Model):
    id: str
    customer_id: str
    entity_id: str
    feature_id: str
    name: str | None
    metadata: dict[str, Any] | None = None
    created_at: datetime


class SpendCapStatus(Model):
    """Amounts in minor units; `cap_cents` None means no cap (`unlimited`)."""

    customer_id: str
    feature_id: str
    cap_cents: int | None
    accrued_cents: int
    remaining_cents: int | None
    unlimited: bool


class ProductSpendCap(Model):
    scope: str
    product_id: str
    feature_id: str
    cap_cents: int | None


class UsagePeriod(Model):
    period: str
    count: int
    total: Decimal


class UsageTotal(Model):
    count: int
    sum: Decimal


class UsageAggregation(Model):
    timeline: list[UsagePeriod]
    total: UsageTotal

"""Customers and the subscriptions they hold."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from cynco_billing.models.base import Model


class SubscriptionSummary(Model):
    """`status`: checkout, trialing, active, past_due, canceled, expired or paused.
    `customer_id` is given in subscription lists."""

    id: str
    status: str
    product_slug: str
    current_period_start: datetime | None = None
    current_period_end: datetime | None = None
    cancel_at_period_end: bool = False
    quantity: int = 1
    customer_id: str | None = None


class FeatureBalance(Model):
    balance: Decimal | None
    remaining: Decimal | None = None
    limit: Decimal | None
    unlimited: bool
    granted: Decimal | None = None
    usage: Decimal | None = None


class PaymentMethod(Model):
    id: str
    type: str
    last4: str | None = None
    brand: str | None = None
    expires_at: str | None = None


class CustomerState(Model):
    """A customer with its subscriptions, balances and flags by feature slug. With a
    publishable key, `name`, `email`, `metadata` and `payment_methods` are left out (None)."""

    id: str
    external_id: str
    environment: str
    name: str | None = None
    email: str | None = None
    metadata: dict[str, Any] | None = None
    subscriptions: list[SubscriptionSummary]
    balances: dict[str, FeatureBalance]
    flags: dict[str, bool]
    payment_methods: list[PaymentMethod] | None = None
    created_at: datetime | None = None

"""What a subscribe is asked (validated by the view) and what it answers (API.md's scenarios)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from billing.models import Checkout, Product, Subscription


@dataclass(frozen=True)
class SubscribeRequest:
    """What the caller asked for, validated by the view."""

    product: Product
    price_id: str | None = None
    quantity: int = 1
    billing_anchor_day: int | None = None
    success_url: str = ""
    cancel_url: str = ""
    metadata: dict = field(default_factory=dict)
    carry_over_balances: bool = False
    carry_over_usages: bool = False
    carry_over_feature_ids: list[str] | None = None
    publishable: bool = False  # may only answer with a checkout (API.md, Publishable keys)
    card_on_file: bool = False  # the customer has a saved card (a card-required trial needs one)
    coupon_code: str | None = None
    # Who would pay a checkout this subscribe leaves: the Idempotency-Key, else the request's
    # own token (billing.services.checkout_claims).
    charge_token: str = ""


@dataclass
class SubscribeOutcome:
    action: str  # checkout | activated | scheduled | noop
    subscription: Subscription | None = None
    checkout: Checkout | None = None
    effective_at: datetime | None = None
    proration_amount: int | None = None
    discount_amount: int | None = None
    required_action: dict | None = None
    url: str | None = None  # where to send the customer (the checkout page, or 3-D Secure)

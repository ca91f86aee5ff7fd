"""Products, plans, previews and the pricing table. Amounts in minor units (sen, cents)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from cynco_billing.models.base import Model


class Tier(Model):
    up_to: Decimal | None
    unit_amount: int
    flat_amount: int = 0


class Price(Model):
    id: str
    name: str | None = None
    type: str
    amount: int
    currency: str
    billing_interval: str | None = None
    billing_interval_count: int | None = None
    trial_days: int | None = None
    trial_requires_card: bool = False
    setup_fee: int | None = None
    tiers_mode: str | None = None
    tiers: list[Tier] | None = None


class Feature(Model):
    slug: str
    name: str
    type: str
    allowance_type: str
    allowance: Decimal | None = None
    unlimited: bool = False
    overage_allowed: bool = False
    overage_price: int | None = None
    reset_interval: str | None = None
    per_entity: bool = False


class Product(Model):
    id: str
    name: str
    slug: str
    description: str | None = None
    is_default: bool = False
    is_add_on: bool = False
    group_slug: str | None = None
    sort_order: int = 0
    status: str | None = None
    metadata: dict[str, Any] | None = None
    version: int | None = None
    version_id: str | None = None
    prices: list[Price] = []
    features: list[Feature] = []
    created_at: datetime | None = None
    updated_at: datetime | None = None


class ProductVersion(Model):
    id: str
    product_id: str
    version: int
    snapshot: dict[str, Any]
    subscriber_count: int | None = None
    created_at: datetime


class ProductVersions(Model):
    versions: list[ProductVersion]


class Migrated(Model):
    migrated: int


class PlanPrice(Model):
    id: str
    name: str | None = None
    amount: int
    currency: str
    billing_interval: str | None = None
    billing_interval_count: int | None = None
    trial_days: int | None = None
    setup_fee: int | None = None


class PlanFeature(Model):
    slug: str
    name: str
    type: str
    allowance_type: str
    allowance: Decimal | None = None
    unlimited: bool = False


class CustomerEligibility(Model):
    """`scenario`: new, upgrade, downgrade, active, scheduled or canceled."""

    scenario: str
    current_subscription_id: str | None = None
    proration_amount: int | None = None
    trial_available: bool = False


class PlanHeading(Model):
    """What plans and the pricing table's plans share."""

    id: str
    name: str
    slug: str
    description: str | None = None
    group_slug: str | None = None
    is_default: bool = False
    is_add_on: bool = False
    sort_order: int = 0


class Plan(PlanHeading):
    prices: list[PlanPrice] = []
    features: list[PlanFeature] = []
    customer_eligibility: CustomerEligibility | None = None


class PreviewLine(Model):
    title: str
    description: str = ""
    amount: int


class Proration(Model):
    """`refund_amount` and `refund_currency` when the current plan is priced in another
    currency: its unused part is refunded in that currency, not credited."""

    credit_amount: int
    charge_amount: int
    refund_amount: int | None = None
    refund_currency: str | None = None


class Trial(Model):
    """The first paid period starts when the trial ends and lasts one full interval."""

    trial_days: int
    trial_end: datetime
    first_period_start: datetime | None = None
    first_period_end: datetime | None = None


class PreviewResult(Model):
    """What subscribing would do, with nothing done: `amount_due` is charged now."""

    scenario: str
    amount_due: int
    total: int
    line_items: list[PreviewLine]
    proration: Proration | None = None
    trial: Trial | None = None
    current_plan: str | None = None
    target_plan: str
    discount_amount: int | None = None


class PricingTablePrice(PlanPrice):
    """A plan's price with its amount written out (`"MYR 20.00"`)."""

    amount_formatted: str


class PricingTableFeature(Model):
    slug: str
    name: str
    type: str
    allowance: Decimal | None = None
    unlimited: bool = False


class PricingTableEligibility(Model):
    scenario: str


class PricingTablePlan(PlanHeading):
    prices: list[PricingTablePrice] = []
    features: list[PricingTableFeature] = []
    customer_eligibility: PricingTableEligibility | None = None


class PlanGroup(Model):
    slug: str
    plan_count: int


class PricingTable(Model):
    plans: list[PricingTablePlan]
    groups: list[PlanGroup]

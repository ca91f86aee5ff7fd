"""Reads of customers and of what their subscriptions give them now (CustomerState)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Q, QuerySet

from billing.entitlement_rules import ZERO
from billing.models import Balance, Customer, Subscription
from cynco.errors import CustomerNotFound
from cynco.tenancy import Scope


def customers_active(scope: Scope) -> QuerySet[Customer]:
    """The scope's customers that were not deleted, oldest first."""
    return Customer.objects.for_scope(scope).active().order_by("created_at", "id")


def customer_find(scope: Scope, external_id: str) -> Customer:
    """The customer whose external id is `external_id`; CustomerNotFound (404) otherwise,
    deleted customers included."""
    customer = customers_active(scope).filter(external_id=external_id).first()
    if customer is None:
        raise CustomerNotFound(f"No customer '{external_id}'")
    return customer


@dataclass
class FeatureBalance:
    """One metered or credit feature's standing this period."""

    granted: Decimal = Decimal(0)
    usage: Decimal = Decimal(0)
    unlimited: bool = False
    overage_allowed: bool = False

    @property
    def balance(self) -> Decimal | None:
        return None if self.unlimited else self.granted - self.usage

    @property
    def allowed(self) -> bool:
        return self.unlimited or self.overage_allowed or self.balance > 0


@dataclass
class CustomerHoldings:
    """A customer's current subscriptions and what their features give now."""

    subscriptions: list[Subscription] = field(default_factory=list)
    balances: dict[str, FeatureBalance] = field(default_factory=dict)
    flags: dict[str, bool] = field(default_factory=dict)


def customer_holdings(customers: list[Customer], at: datetime) -> dict[str, CustomerHoldings]:
    """What each customer holds at `at`, by customer id, in two queries for the whole list.

    `subscriptions` are the current ones (checkout, trialing, active, past_due, paused).
    `balances` and `flags` come from the customers' own Balance rows (entities' balances are
    left out): one entry per metered or credit feature, `usage` counting open reservations;
    a period that ended by `at` shows as the fresh period it becomes at the next use. Flags
    hold every granted feature: true for a boolean one, and for a metered one whether it may
    be used now.
    """
    holdings = {customer.id: CustomerHoldings() for customer in customers}
    subscriptions = (
        Subscription.objects.filter(
            customer_id__in=holdings, status__in=Subscription.CURRENT_STATUSES
        )
        .select_related("product")
        .order_by("created_at", "id")
    )
    for subscription in subscriptions:
        holdings[subscription.customer_id].subscriptions.append(subscription)
    rows = (
        Balance.objects.filter(customer_id__in=holdings, entity_key="")
        .select_related("feature")
        .order_by("feature__slug")
    )
    for row in rows:
        held = holdings[row.customer_id]
        slug = row.feature.slug
        if row.is_boolean:
            if row.granted > 0:
                held.flags[slug] = True
            continue
        ended = row.period_end is not None and row.period_end <= at
        balance = held.balances[slug] = FeatureBalance(
            granted=row.granted, usage=(ZERO if ended else row.used) + row.reserved,
            unlimited=row.unlimited, overage_allowed=row.overage_allowed,
        )
        held.flags[slug] = balance.allowed
    return holdings


def _grants_now(subscription: Subscription, at: datetime) -> bool:
    return (
        subscription.status in Subscription.GRANTING_STATUSES
        and subscription.current_period_start <= at
        and (subscription.current_period_end is None or at < subscription.current_period_end)
    )


def current_subscriptions(customer: Customer) -> QuerySet[Subscription]:
    """The customer's current subscriptions with their products and prices."""
    return (
        customer.subscriptions.filter(status__in=Subscription.CURRENT_STATUSES)
        .select_related("product", "price", "scheduled_price")
        .order_by("created_at", "id")
    )


def ever_trialed(customer: Customer) -> set[str]:
    """Ids of the products the customer ever had a trial of (a trial is given once)."""
    return set(
        customer.subscriptions.filter(Q(trial_end__isnull=False) | Q(status="trialing"))
        .values_list("product_id", flat=True)
    )

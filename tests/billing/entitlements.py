"""Builders for entitlement scenarios: plans with metered features, customers on them."""

from __future__ import annotations

from datetime import timedelta

from billing.models import Customer
from billing.periods import next_period_end
from cynco import clock
from cynco.tenancy import Scope
from tests.billing.catalog import CUSTOMERS, define, metered, monthly, subscribe_directly, switch
from tests.factories import data_of

CHECK = "/api/v1/pay/check"
TRACK = "/api/v1/pay/track"
FINALIZE = "/api/v1/pay/balances/finalize"
BALANCES_CREATE = "/api/v1/pay/balances/create"
BALANCES_UPDATE = "/api/v1/pay/balances/update"
ENTITIES = "/api/v1/pay/entities"
SPEND_CAPS = "/api/v1/pay/spend-caps"
EVENTS = "/api/v1/pay/events"

__all__ = ["CHECK", "TRACK", "FINALIZE", "metered", "switch", "plan", "customer_on",
           "test_scope", "check", "track", "state_of"]


def test_scope(merchant) -> Scope:
    return Scope(merchant.merchant.id, "test")


test_scope.__test__ = False  # a builder, not a test


def plan(api, slug: str, *features, amount: int = 2000, **extra) -> dict:
    """A monthly plan `slug` granting `features`."""
    return define(api, {"name": slug.title(), "slug": slug, "prices": [monthly(amount)],
                        "features": list(features), **extra})


def customer_on(api, merchant, product: str | None, customer: str = "user_1", *,
                quantity: int = 1, days: int | None = None):
    """Customer `customer` (created if new) on `product` from now, for a month (or `days`)."""
    api.post(CUSTOMERS, {"customerId": customer})
    if product is None:
        return None
    start = clock.now(test_scope(merchant))
    end = start + timedelta(days=days) if days else next_period_end(start, "month", 1)
    return subscribe_directly(customer, product, start=start, end=end,
                              merchant_id=merchant.merchant.id, quantity=quantity)


def check(api, feature: str, customer: str = "user_1", status: int = 200, **options) -> dict:
    return data_of(api.post(CHECK, {"customer": customer, "feature": feature, **options}),
                   status)


def track(api, feature: str, customer: str = "user_1", status: int = 200, **options) -> dict:
    return data_of(api.post(TRACK, {"customer": customer, "feature": feature, **options}),
                   status)


def state_of(api, customer: str = "user_1") -> dict:
    return data_of(api.get(CUSTOMERS + f"?id={customer}"))


def customer_row(merchant, customer: str = "user_1") -> Customer:
    return Customer.objects.active().get(merchant_id=merchant.merchant.id, environment="test",
                                         external_id=customer)

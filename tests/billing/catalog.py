"""The documented example catalog as API bodies, and builders for catalog test data."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from billing.models import Customer, Product, Subscription
from billing.services.entitlement_sync import subscription_changed
from cynco.locks import lock_customer

PRODUCTS = "/api/v1/pay/products"
VERSIONS = "/api/v1/pay/products/versions"
CUSTOMERS = "/api/v1/pay/customers"
PLANS = "/api/v1/pay/plans"
PRICING_TABLE = "/api/v1/pay/components/pricing-table"


def monthly(amount: int, **extra) -> dict:
    return {"type": "recurring", "billingInterval": "month", "amount": amount, **extra}


def metered(slug: str, allowance, **extra) -> dict:
    return {"slug": slug, "name": slug.title(), "type": "metered", "allowanceType": "fixed",
            "allowance": allowance, **extra}


def switch(slug: str) -> dict:
    return {"slug": slug, "name": slug.replace("_", " ").title(), "type": "boolean"}


FREE = {
    "name": "Free", "slug": "free", "isDefault": True, "groupSlug": "main", "sortOrder": 0,
    "prices": [monthly(0)], "features": [metered("messages", 100)],
}
PRO = {
    "name": "Pro", "slug": "pro", "groupSlug": "main", "sortOrder": 1,
    "prices": [monthly(2000)],
    "features": [metered("messages", 1000), switch("premium_support")],
}
ENTERPRISE = {
    "name": "Enterprise", "slug": "enterprise", "groupSlug": "main", "sortOrder": 2,
    "prices": [monthly(5000)],
    "features": [{"slug": "messages", "name": "Messages", "type": "metered",
                  "allowanceType": "unlimited"}, switch("premium_support")],
}


def define(api, body: dict, status: int = 201) -> dict:
    response = api.post(PRODUCTS, body)
    assert response.status_code == status, response.content[:800]
    return response.json()["data"]


def subscribe_directly(
    customer_external_id: str, product_slug: str, *, start: datetime, end: datetime | None,
    merchant_id: str | None = None, **fields,
) -> Subscription:
    """A subscription row as the subscribe flow will make it (that flow is another issue),
    with its balances (entitlement_sync.subscription_changed under the customer lock)."""
    customer = Customer.objects.active().get(
        external_id=customer_external_id,
        **({"merchant_id": merchant_id} if merchant_id else {}),
    )
    product = Product.objects.get(
        slug=product_slug, merchant_id=customer.merchant_id, environment=customer.environment
    )
    version = product.latest_version
    with transaction.atomic():
        lock_customer(customer.id)
        subscription = Subscription.objects.create(
            merchant_id=customer.merchant_id, environment=customer.environment,
            customer=customer, product=product, product_version=version,
            price=version.prices.order_by("position").first(),
            status=fields.pop("status", "active"), current_period_start=start,
            current_period_end=end, **fields,
        )
        subscription_changed(subscription=subscription, at=start)
    return subscription

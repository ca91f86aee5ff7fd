"""Free default products (`isDefault`, alias `autoEnable`), given to every new customer."""

from __future__ import annotations

from datetime import datetime

from billing.models import Customer, Price, Product, Subscription
from billing.periods import next_period_end
from billing.services.entitlement_sync import subscription_changed
from cynco.tenancy import Scope


def default_products_attach(*, scope: Scope, customer: Customer, at: datetime) -> list:
    """Subscribe `customer` to every default product of `scope`, active at `at`, no payment.

    The caller runs this inside the customer-creation transaction and holds
    lock_customer(customer.id). Default products are free (ProductInput refuses a paid price),
    so this posts no ledger entry. Each subscription gets the product's latest version and
    first price, and its balances (entitlement_sync.subscription_changed); a recurring free
    price gives a normal period (so allowances reset with it), a product without a recurring
    price gives a period that never ends. At most one base plan
    per group is attached (the first by sort order); every default add-on is attached.
    """
    products = (
        Product.objects.for_scope(scope)
        .filter(is_default=True, status=Product.Status.ACTIVE, latest_version__isnull=False)
        .select_related("latest_version")
        .order_by("sort_order", "created_at", "id")
    )
    attached, groups = [], set()
    for product in products:
        if not product.is_add_on:
            if product.group_slug in groups:
                continue
            groups.add(product.group_slug)
        price = product.latest_version.prices.order_by("position").first()
        end = None
        if price is not None and price.type == Price.Type.RECURRING:
            end = next_period_end(at, price.billing_interval, price.billing_interval_count)
        subscription = Subscription.objects.create(
            merchant_id=scope.merchant_id, environment=scope.environment, customer=customer,
            product=product, product_version=product.latest_version, price=price,
            status=Subscription.Status.ACTIVE, current_period_start=at,
            current_period_end=end, quantity=1,
        )
        subscription_changed(subscription=subscription, at=at)
        attached.append(subscription)
    return attached

"""Spend caps: the most a period's overage of a feature may cost (API.md, spend caps).

A customer's own cap wins over its products' default caps; each cap is copied onto the
balances it bounds (billing.services.balances.spend_cap_for), so track reads one row.
"""

from __future__ import annotations

from django.db import transaction

from billing.models import BalanceGrant, Customer, Feature, Product, SpendCap
from billing.selectors.customers import customer_find
from billing.services.balances import customer_feature_balances
from cynco import clock
from cynco.errors import FeatureNotFound, ProductNotFound, ValidationFailed
from cynco.locks import lock_customer
from cynco.tenancy import Scope


def metered_feature(scope: Scope, slug: str, field: str = "feature") -> Feature:
    """The metered or credit feature `slug`: FeatureNotFound, or 422 on `field` for a boolean."""
    feature = Feature.objects.for_scope(scope).filter(slug=slug).first()
    if feature is None:
        raise FeatureNotFound(f"No feature '{slug}'")
    if feature.type == Feature.Type.BOOLEAN:
        raise ValidationFailed.field(field, "A boolean feature has no balance.")
    return feature


def spend_cap_set(*, scope: Scope, customer: str, feature: str, cap_cents: int | None):
    """Set (or with None remove) the customer's own cap of `feature`; without one its
    products' default cap applies. Takes lock_customer; no ledger entry."""
    found = customer_find(scope, customer)
    metered = metered_feature(scope, feature)
    with transaction.atomic():
        lock_customer(found.id)
        if cap_cents is None:
            SpendCap.objects.filter(customer=found, feature=metered).delete()
        else:
            SpendCap.objects.update_or_create(
                customer=found, feature=metered,
                defaults={"merchant_id": scope.merchant_id, "environment": scope.environment,
                          "cap_cents": cap_cents},
            )
        customer_feature_balances(customer=found, feature=metered, at=clock.now(scope))
    return found, metered


def spend_cap_product_set(*, scope: Scope, product: str, feature: str, cap_cents: int | None):
    """Set (or remove) the default cap of `feature` for subscribers of `product` (id or
    slug), then apply it to each subscriber's balances, one customer lock at a time."""
    found = Product.objects.for_scope(scope).filter(slug=product).first() or \
        Product.objects.for_scope(scope).filter(id=product).first()
    if found is None:
        raise ProductNotFound(f"No product '{product}'")
    metered = metered_feature(scope, feature, field="featureId")
    with transaction.atomic():
        if cap_cents is None:
            SpendCap.objects.filter(product=found, feature=metered).delete()
        else:
            SpendCap.objects.update_or_create(
                product=found, feature=metered,
                defaults={"merchant_id": scope.merchant_id, "environment": scope.environment,
                          "cap_cents": cap_cents},
            )
    customer_ids = BalanceGrant.objects.filter(
        feature=metered, active=True, subscription__product=found
    ).values_list("customer_id", flat=True).distinct()
    for customer_id in customer_ids:
        with transaction.atomic():
            lock_customer(customer_id)
            customer_feature_balances(customer=Customer.objects.get(pk=customer_id),
                                      feature=metered, at=clock.now(scope))
    return found, metered

"""Wire shapes of the catalog (docs/client-wire-format.md §2.2): Product, its prices and
features, ProductVersion. Plans and the pricing table build on the same pieces."""

from __future__ import annotations

from billing.models import FeatureGrant, Price, Product, ProductVersion
from cynco.fields import usage_number


def price_data(price: Price) -> dict:
    return {
        "id": price.id,
        "name": price.name,
        "type": price.type,
        "amount": price.amount,
        "currency": price.currency,
        "billingInterval": price.billing_interval,
        "billingIntervalCount": price.billing_interval_count,
        "trialDays": price.trial_days,
        "trialRequiresCard": price.trial_requires_card,
        "setupFee": price.setup_fee,
        "tiersMode": price.tiers_mode,
        "tiers": price.tiers,
    }


def feature_data(grant: FeatureGrant) -> dict:
    return {
        "slug": grant.feature.slug,
        "name": grant.feature.name,
        "type": grant.feature.type,
        "allowanceType": grant.allowance_type,
        "allowance": usage_number(grant.allowance),
        "unlimited": grant.unlimited,
        "overageAllowed": grant.overage_allowed,
        "overagePrice": grant.overage_price,
        "resetInterval": grant.reset_interval,
        "perEntity": grant.per_entity,
    }


def terms_data(product: Product) -> dict:
    """`prices` and `features` of the product's latest version."""
    version = product.latest_version
    return {
        "prices": [price_data(price) for price in version.prices.all()],
        "features": [feature_data(grant) for grant in version.feature_grants.all()],
    }


def product_data(product: Product) -> dict:
    return {
        "id": product.id,
        "name": product.name,
        "slug": product.slug,
        "description": product.description,
        "isDefault": product.is_default,
        "isAddOn": product.is_add_on,
        "groupSlug": product.group_slug,
        "sortOrder": product.sort_order,
        "status": product.status,
        "metadata": product.metadata,
        "version": product.latest_version.version,
        "versionId": product.latest_version_id,
        **terms_data(product),
        "createdAt": product.created_at,
        "updatedAt": product.updated_at,
    }


def version_data(version: ProductVersion) -> dict:
    return {
        "id": version.id,
        "productId": version.product_id,
        "version": version.version,
        "snapshot": version.definition,
        "subscriberCount": getattr(version, "subscriber_count", None),
        "createdAt": version.created_at,
    }

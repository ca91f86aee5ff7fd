"""Writes of the catalog: defining products (versioned) and their features.

Products take no customer lock: they change no customer's money or balances. Concurrent
definitions of one slug are serialized by the product row's lock (SELECT … FOR UPDATE).
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from django.db import IntegrityError, transaction

from billing.models import Feature, FeatureGrant, Price, Product, ProductVersion
from cynco.errors import ValidationFailed
from cynco.fields import usage_number
from cynco.tenancy import Scope

PRICE_KEYS = (
    "name", "type", "billingInterval", "billingIntervalCount", "amount", "currency", "trialDays",
    "trialRequiresCard", "setupFee", "tiersMode", "tiers",
)
FEATURE_KEYS = (
    "slug", "name", "type", "allowanceType", "allowance", "overageAllowed", "overagePrice",
    "resetInterval", "perEntity",
)


def product_definition(values: dict) -> dict:
    """The canonical definition of a product from its validated input (wire names).

    Defaults are filled in, so leaving a default out and spelling it out give the same
    definition. `metadata` is not part of it: it describes the product, not what is sold.
    """

    def number(value):
        return usage_number(value) if isinstance(value, Decimal) else value

    prices = []
    for price in values["prices"]:
        row = {key: price.get(key) for key in PRICE_KEYS}
        if row["tiers"]:
            row["tiers"] = [
                {"upTo": number(t["upTo"]), "unitAmount": t["unitAmount"],
                 "flatAmount": t["flatAmount"]}
                for t in row["tiers"]
            ]
        else:
            row["tiers"] = row["tiersMode"] = None
        prices.append(row)
    features = []
    for feature in values["features"]:
        row = {key: number(feature.get(key)) for key in FEATURE_KEYS}
        features.append(row)
    return {
        "name": values["name"],
        "description": values.get("description"),
        "groupSlug": values.get("groupSlug"),
        "isAddOn": values["isAddOn"],
        "isDefault": values["isDefault"],
        "sortOrder": values["sortOrder"],
        "prices": prices,
        "features": features,
    }


def definition_hash(definition: dict) -> str:
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def product_define(
    *, scope: Scope, slug: str, definition: dict, metadata: dict | None = None
) -> tuple[Product, bool]:
    """Create the product `slug`, or give it a new version when `definition` changed.

    Returns (product, changed). When the latest version has the same definition nothing is
    versioned (`changed` False); given `metadata` still replaces the product's metadata, which
    is not versioned. A new version never touches older ones: their subscribers stay on them.
    Takes no customer lock and posts no ledger entry.
    """
    digest = definition_hash(definition)
    with transaction.atomic():
        product = _locked_product(scope, slug)
        latest = product.latest_version
        if latest is not None and latest.definition_hash == digest:
            if metadata is not None and metadata != product.metadata:
                product.metadata = metadata
                product.save(update_fields=["metadata", "updated_at"])
            return product, False
        _check_default_group(scope, product, definition)
        features = _features_for(scope, definition["features"])
        version = ProductVersion.objects.create(
            merchant_id=scope.merchant_id, environment=scope.environment, product=product,
            version=(latest.version + 1) if latest else 1, definition=definition,
            definition_hash=digest,
        )
        _create_prices(scope, product, version, definition["prices"])
        _create_grants(scope, product, version, definition["features"], features)
        product.name = definition["name"]
        product.description = definition["description"]
        product.group_slug = definition["groupSlug"]
        product.is_add_on = definition["isAddOn"]
        product.is_default = definition["isDefault"]
        product.sort_order = definition["sortOrder"]
        if metadata is not None:
            product.metadata = metadata
        product.latest_version = version
        product.save()
        return product, True


def _locked_product(scope: Scope, slug: str) -> Product:
    """The product `slug` locked FOR UPDATE, inserted first when it does not exist yet."""
    products = Product.objects.for_scope(scope).select_for_update(of=("self",)).select_related(
        "latest_version"
    )
    product = products.filter(slug=slug).first()
    if product is not None:
        return product
    try:
        with transaction.atomic():
            return Product.objects.create(
                merchant_id=scope.merchant_id, environment=scope.environment, slug=slug,
                name=slug,
            )
    except IntegrityError:  # defined concurrently: the other transaction has committed it
        return products.get(slug=slug)


def _check_default_group(scope: Scope, product: Product, definition: dict) -> None:
    """At most one default base plan per group: every new customer gets exactly one."""
    if not definition["isDefault"] or definition["isAddOn"]:
        return
    clash = (
        Product.objects.for_scope(scope)
        .filter(is_default=True, is_add_on=False, group_slug=definition["groupSlug"],
                status=Product.Status.ACTIVE)
        .exclude(pk=product.pk)
        .first()
    )
    if clash is not None:
        group = definition["groupSlug"] or "(no group)"
        raise ValidationFailed.field(
            "isDefault", f"Product '{clash.slug}' is already the default plan of group {group}."
        )


def _features_for(scope: Scope, grants: list[dict]) -> dict[str, Feature]:
    """The merchant's Feature rows for the granted slugs, created when new. A feature keeps
    its type for life; its name follows the latest definition that names it."""
    features = {}
    for index, grant in enumerate(grants):
        feature, created = Feature.objects.get_or_create(
            merchant_id=scope.merchant_id, environment=scope.environment, slug=grant["slug"],
            defaults={"name": grant["name"], "type": grant["type"]},
        )
        if not created and feature.type != grant["type"]:
            raise ValidationFailed.field(
                f"features[{index}].type",
                f"Feature '{feature.slug}' is already defined as {feature.type}.",
            )
        if feature.name != grant["name"]:
            feature.name = grant["name"]
            feature.save(update_fields=["name"])
        features[feature.slug] = feature
    return features


def _create_prices(scope, product, version, prices: list[dict]) -> None:
    for position, price in enumerate(prices):
        Price.objects.create(
            merchant_id=scope.merchant_id, environment=scope.environment, product=product,
            version=version, position=position, name=price["name"], type=price["type"],
            billing_interval=price["billingInterval"],
            billing_interval_count=price["billingIntervalCount"], amount=price["amount"],
            currency=price["currency"], trial_days=price["trialDays"],
            trial_requires_card=price["trialRequiresCard"], setup_fee=price["setupFee"],
            tiers_mode=price["tiersMode"], tiers=price["tiers"],
        )


def _create_grants(scope, product, version, grants: list[dict], features) -> None:
    for position, grant in enumerate(grants):
        allowance = grant["allowance"]
        FeatureGrant.objects.create(
            merchant_id=scope.merchant_id, environment=scope.environment, product=product,
            version=version, feature=features[grant["slug"]], position=position,
            allowance_type=grant["allowanceType"],
            allowance=None if allowance is None else Decimal(str(allowance)),
            overage_allowed=grant["overageAllowed"], overage_price=grant["overagePrice"],
            reset_interval=grant["resetInterval"], per_entity=grant["perEntity"],
        )

"""Product, its prices and features, ProductVersion, Plan and the pricing table (API.md,
Customers, products, plans; docs/catalog.md)."""

from __future__ import annotations

from rest_framework import serializers as s

from billing.api.shapes.customers import usage_number
from billing.models import Feature, FeatureGrant, Price, Product

SCENARIOS = ["new", "upgrade", "downgrade", "active", "scheduled", "canceled"]


class TierShape(s.Serializer):
    upTo = usage_number(allow_null=True, help_text="null: no upper bound (the last tier).")
    unitAmount = s.IntegerField()
    flatAmount = s.IntegerField()


class PriceShape(s.Serializer):
    """Amounts in minor units. Tiered prices carry `tiersMode` and `tiers`."""

    id = s.CharField()
    name = s.CharField(allow_null=True)
    type = s.ChoiceField(choices=Price.Type.choices)
    amount = s.IntegerField()
    currency = s.CharField()
    billingInterval = s.ChoiceField(choices=Price.Interval.choices, allow_null=True)
    billingIntervalCount = s.IntegerField(allow_null=True)
    trialDays = s.IntegerField()
    trialRequiresCard = s.BooleanField()
    setupFee = s.IntegerField()
    tiersMode = s.ChoiceField(choices=Price.TiersMode.choices, allow_null=True)
    tiers = TierShape(many=True, allow_null=True)


class FeatureShape(s.Serializer):
    slug = s.CharField()
    name = s.CharField()
    type = s.ChoiceField(choices=Feature.Type.choices)
    allowanceType = s.ChoiceField(choices=FeatureGrant.AllowanceType.choices)
    allowance = usage_number(allow_null=True)
    unlimited = s.BooleanField()
    overageAllowed = s.BooleanField()
    overagePrice = s.IntegerField(allow_null=True, help_text="Minor units per unit of overage.")
    resetInterval = s.ChoiceField(choices=FeatureGrant.ResetInterval.choices, allow_null=True)
    perEntity = s.BooleanField()


class ProductShape(s.Serializer):
    """A product with the prices and features of its latest version."""

    id = s.CharField()
    name = s.CharField()
    slug = s.CharField()
    description = s.CharField(allow_null=True)
    isDefault = s.BooleanField()
    isAddOn = s.BooleanField()
    groupSlug = s.CharField(allow_null=True)
    sortOrder = s.IntegerField()
    status = s.ChoiceField(choices=Product.Status.choices)
    metadata = s.DictField()
    version = s.IntegerField()
    versionId = s.CharField()
    prices = PriceShape(many=True)
    features = FeatureShape(many=True)
    createdAt = s.DateTimeField()
    updatedAt = s.DateTimeField()


class ProductVersionShape(s.Serializer):
    id = s.CharField()
    productId = s.CharField()
    version = s.IntegerField()
    snapshot = s.DictField(help_text="The version's definition (name, prices, features, …).")
    subscriberCount = s.IntegerField(allow_null=True)
    createdAt = s.DateTimeField()


class ProductVersionsShape(s.Serializer):
    versions = ProductVersionShape(many=True)


class MigratedShape(s.Serializer):
    migrated = s.IntegerField(help_text="Subscriptions moved to the latest version.")


class PlanPriceShape(s.Serializer):
    id = s.CharField()
    name = s.CharField(allow_null=True)
    amount = s.IntegerField()
    currency = s.CharField()
    billingInterval = s.ChoiceField(choices=Price.Interval.choices, allow_null=True)
    billingIntervalCount = s.IntegerField(allow_null=True)
    trialDays = s.IntegerField()
    setupFee = s.IntegerField()


class PlanFeatureShape(s.Serializer):
    slug = s.CharField()
    name = s.CharField()
    type = s.ChoiceField(choices=Feature.Type.choices)
    allowanceType = s.ChoiceField(choices=FeatureGrant.AllowanceType.choices)
    allowance = usage_number(allow_null=True)
    unlimited = s.BooleanField()


class EligibilityShape(s.Serializer):
    """What subscribing to this plan would be for the customer."""

    scenario = s.ChoiceField(choices=SCENARIOS)
    currentSubscriptionId = s.CharField(allow_null=True)
    prorationAmount = s.IntegerField(allow_null=True)
    trialAvailable = s.BooleanField()


class PlanShape(s.Serializer):
    """`customerEligibility` is null unless `customer` was given."""

    id = s.CharField()
    name = s.CharField()
    slug = s.CharField()
    description = s.CharField(allow_null=True)
    groupSlug = s.CharField(allow_null=True)
    isDefault = s.BooleanField()
    isAddOn = s.BooleanField()
    sortOrder = s.IntegerField()
    prices = PlanPriceShape(many=True)
    features = PlanFeatureShape(many=True)
    customerEligibility = EligibilityShape(allow_null=True)


class TablePriceShape(PlanPriceShape):
    trialDays = s.IntegerField(allow_null=True, help_text="null when there is no trial.")
    amountFormatted = s.CharField(help_text='Like "MYR 9.90".')


class TableFeatureShape(s.Serializer):
    slug = s.CharField()
    name = s.CharField()
    type = s.ChoiceField(choices=Feature.Type.choices)
    allowance = usage_number(allow_null=True)
    unlimited = s.BooleanField()


class TableEligibilityShape(s.Serializer):
    scenario = s.ChoiceField(choices=SCENARIOS)


class PricingTablePlanShape(s.Serializer):
    """A plan of the pricing table; `customerEligibility` only when `customer` was given."""

    id = s.CharField()
    name = s.CharField()
    slug = s.CharField()
    description = s.CharField(allow_null=True)
    groupSlug = s.CharField(allow_null=True)
    isDefault = s.BooleanField()
    isAddOn = s.BooleanField()
    sortOrder = s.IntegerField()
    prices = TablePriceShape(many=True)
    features = TableFeatureShape(many=True)
    customerEligibility = TableEligibilityShape(allow_null=True, required=False)


class PlanGroupShape(s.Serializer):
    slug = s.CharField(help_text='The group slug; "default" for plans without one.')
    planCount = s.IntegerField()


class PricingTableShape(s.Serializer):
    plans = PricingTablePlanShape(many=True)
    groups = PlanGroupShape(many=True)

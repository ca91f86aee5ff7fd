"""The catalog: what a merchant sells.

A `Product` (unique slug per merchant+environment) is defined by immutable `ProductVersion`s.
Each version owns its `Price`s and `FeatureGrant`s; posting a product with a changed definition
adds version N+1 and never edits an older one, so subscribers keep the terms they bought
(grandfathering) until they are migrated. `Feature`s (unique slug per merchant+environment) are
shared by every product that grants them.
"""

from __future__ import annotations

from django.db import models

from cynco.history import model_history
from cynco.ids import new_id
from cynco.models import TenantModel
from cynco.money import format_money

__all__ = [
    "Feature",
    "FeatureGrant",
    "Price",
    "Product",
    "ProductVersion",
]


def new_feature_id() -> str:
    return new_id("pfeat")


def new_product_id() -> str:
    return new_id("pprod")


def new_product_version_id() -> str:
    return new_id("pver")


def new_price_id() -> str:
    return new_id("ppri")


def new_feature_grant_id() -> str:
    return new_id("pfg")


USAGE_DIGITS = {"max_digits": 20, "decimal_places": 6}


class Feature(TenantModel):
    """Something a customer may use: a boolean switch, a metered quantity or a credit pool."""

    class Type(models.TextChoices):
        BOOLEAN = "boolean"
        METERED = "metered"
        CREDIT_SYSTEM = "credit_system"

    id = models.CharField(primary_key=True, max_length=40, default=new_feature_id, editable=False)
    slug = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=16, choices=Type.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    history = model_history()

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "environment", "slug"], name="feature_slug_unique"
            )
        ]

    def __str__(self) -> str:
        return self.slug


class Product(TenantModel):
    """A plan or add-on. Its descriptive fields mirror its latest version's definition."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        ARCHIVED = "archived"

    id = models.CharField(primary_key=True, max_length=40, default=new_product_id, editable=False)
    slug = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    description = models.TextField(null=True, blank=True)
    group_slug = models.CharField(max_length=100, null=True, blank=True)
    is_add_on = models.BooleanField(default=False)
    is_default = models.BooleanField(default=False)
    sort_order = models.IntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    metadata = models.JSONField(default=dict, blank=True)
    latest_version = models.ForeignKey(
        "billing.ProductVersion", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = model_history()

    class Meta:
        ordering = ["sort_order", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "environment", "slug"], name="product_slug_unique"
            )
        ]

    def __str__(self) -> str:
        return self.slug


class ProductVersion(TenantModel):
    """One immutable definition of a product. `definition` is the canonical JSON it was made
    from (what `GET /products/versions` shows as `snapshot`); `definition_hash` finds it."""

    id = models.CharField(
        primary_key=True, max_length=40, default=new_product_version_id, editable=False
    )
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    definition = models.JSONField()
    definition_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    history = model_history()

    class Meta:
        ordering = ["product", "version"]
        constraints = [
            models.UniqueConstraint(fields=["product", "version"], name="product_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.product.slug} v{self.version}"


class Price(TenantModel):
    """A way to pay for a product version: once, or every `billing_interval_count` intervals.

    `amount` is in minor units of `currency`. A tiered price also has `tiers_mode` and `tiers`
    (wire names: `[{upTo, unitAmount, flatAmount}]`, priced by billing.pricing).
    """

    class Type(models.TextChoices):
        ONE_TIME = "one_time"
        RECURRING = "recurring"

    class Interval(models.TextChoices):
        WEEK = "week"
        MONTH = "month"
        YEAR = "year"

    class TiersMode(models.TextChoices):
        GRADUATED = "graduated"
        VOLUME = "volume"

    id = models.CharField(primary_key=True, max_length=40, default=new_price_id, editable=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="prices")
    version = models.ForeignKey(ProductVersion, on_delete=models.CASCADE, related_name="prices")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=200, null=True, blank=True)
    type = models.CharField(max_length=10, choices=Type.choices)
    billing_interval = models.CharField(
        max_length=5, choices=Interval.choices, null=True, blank=True
    )
    billing_interval_count = models.PositiveSmallIntegerField(null=True, blank=True)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    trial_days = models.PositiveIntegerField(default=0)
    trial_requires_card = models.BooleanField(default=False)
    setup_fee = models.BigIntegerField(default=0)
    tiers_mode = models.CharField(max_length=9, choices=TiersMode.choices, null=True, blank=True)
    tiers = models.JSONField(null=True, blank=True)
    history = model_history()

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="price_amount_gte_0"),
            models.CheckConstraint(
                condition=models.Q(setup_fee__gte=0), name="price_setup_fee_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({format_money(self.amount, self.currency)})"


class FeatureGrant(TenantModel):
    """What a product version gives of one feature: on/off, a fixed allowance, or unlimited."""

    class AllowanceType(models.TextChoices):
        BOOLEAN = "boolean"
        FIXED = "fixed"
        UNLIMITED = "unlimited"

    class ResetInterval(models.TextChoices):
        DAY = "day"
        WEEK = "week"
        MONTH = "month"
        YEAR = "year"
        ONE_OFF = "one_off"

    id = models.CharField(
        primary_key=True, max_length=40, default=new_feature_grant_id, editable=False
    )
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="feature_grants")
    version = models.ForeignKey(
        ProductVersion, on_delete=models.CASCADE, related_name="feature_grants"
    )
    feature = models.ForeignKey(Feature, on_delete=models.PROTECT, related_name="grants")
    position = models.PositiveSmallIntegerField(default=0)
    allowance_type = models.CharField(max_length=9, choices=AllowanceType.choices)
    allowance = models.DecimalField(null=True, blank=True, **USAGE_DIGITS)
    overage_allowed = models.BooleanField(default=False)
    overage_price = models.BigIntegerField(null=True, blank=True)
    reset_interval = models.CharField(
        max_length=7, choices=ResetInterval.choices, null=True, blank=True
    )
    per_entity = models.BooleanField(default=False)
    history = model_history()

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "feature"], name="grant_feature_unique")
        ]

    def __str__(self) -> str:
        return f"{self.feature.slug}: {self.allowance_type}"

    @property
    def unlimited(self) -> bool:
        return self.allowance_type == self.AllowanceType.UNLIMITED

"""Coupons and their redemptions.

A `Coupon`'s code is unique per merchant+environment regardless of case (`save20` is `SAVE20`),
archived coupons included. `times_redeemed` is the count that `max_redemptions` limits; the
redeem service raises it with a conditional UPDATE, and a check constraint keeps it within the
limit even if code elsewhere forgot to. A coupon with a `customer` is that customer's alone (the
rewards of a referral are such coupons).
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from cynco.history import model_history
from cynco.ids import new_id
from cynco.models import TenantModel

__all__ = ["Coupon", "CouponRedemption"]


def new_coupon_id() -> str:
    return new_id("pcpn")


def new_coupon_redemption_id() -> str:
    return new_id("pcred")


class Coupon(TenantModel):
    class Type(models.TextChoices):
        PERCENTAGE = "percentage"
        FIXED = "fixed"
        TRIAL_EXTENSION = "trial_extension"

    class Duration(models.TextChoices):
        ONCE = "once"
        REPEATING = "repeating"
        FOREVER = "forever"

    class Status(models.TextChoices):
        ACTIVE = "active"
        ARCHIVED = "archived"

    id = models.CharField(primary_key=True, max_length=40, default=new_coupon_id, editable=False)
    code = models.CharField(max_length=64)
    name = models.CharField(max_length=200, null=True, blank=True)
    type = models.CharField(max_length=15, choices=Type.choices)
    # Whole percent (1-100), minor units, or days of trial, by type.
    value = models.BigIntegerField()
    duration = models.CharField(max_length=9, choices=Duration.choices)
    duration_months = models.PositiveIntegerField(null=True, blank=True)
    max_redemptions = models.PositiveIntegerField(null=True, blank=True)
    max_redemptions_per_customer = models.PositiveIntegerField(default=1)
    minimum_amount = models.BigIntegerField(null=True, blank=True)
    # Empty: every product.
    products = models.ManyToManyField("billing.Product", blank=True, related_name="+")
    # Set for a coupon only one customer may redeem (a referral reward).
    customer = models.ForeignKey(
        "billing.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    metadata = models.JSONField(default=dict, blank=True)
    times_redeemed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = model_history(excluded_fields=["times_redeemed"])

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                models.F("merchant"), models.F("environment"), Lower("code"),
                name="coupon_code_unique_ci",
            ),
            models.CheckConstraint(
                condition=models.Q(max_redemptions__isnull=True)
                | models.Q(times_redeemed__lte=models.F("max_redemptions")),
                name="coupon_redeemed_within_max",
            ),
            models.CheckConstraint(
                condition=models.Q(value__gte=0), name="coupon_value_gte_0"
            ),
            models.CheckConstraint(
                condition=~models.Q(type="percentage") | models.Q(value__lte=100),
                name="coupon_percentage_lte_100",
            ),
            models.CheckConstraint(
                condition=~models.Q(duration="repeating") | models.Q(duration_months__gte=1),
                name="coupon_repeating_has_months",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class CouponRedemption(TenantModel):
    """One use of a coupon by a customer (on a subscription, once subscriptions exist).

    `cycle_limit` is how many billing cycles it discounts (null: forever); `cycles_applied`
    and `amount_discounted` grow each time an invoice applies it.
    """

    id = models.CharField(
        primary_key=True, max_length=40, default=new_coupon_redemption_id, editable=False
    )
    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="redemptions")
    customer = models.ForeignKey(
        "billing.Customer", on_delete=models.PROTECT, related_name="coupon_redemptions"
    )
    product = models.ForeignKey(
        "billing.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The subscription it was redeemed for (a plain id until subscriptions link it).
    subscription_id = models.CharField(max_length=40, null=True, blank=True, db_index=True)
    # The amount it was redeemed on, and the discount it gave that amount.
    amount = models.BigIntegerField()
    discount_amount = models.BigIntegerField()
    trial_extension_days = models.PositiveIntegerField(default=0)
    cycle_limit = models.PositiveIntegerField(null=True, blank=True)
    cycles_applied = models.PositiveIntegerField(default=0)
    amount_discounted = models.BigIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["coupon", "customer"], name="coupon_redemption_customer_idx")
        ]

    def __str__(self) -> str:
        return f"{self.coupon.code} by {self.customer_id}"

"""Referral rewards: programs, the codes referrers share, and what a redemption gave each side.

A `ReferralRedemption` rewards the referrer and the referee with the program's reward: a
single-customer `Coupon` (percentage or fixed discount), a `CustomerCredit` (money the invoicing
side takes off the customer's next invoices), or a pending `FreeProductGrant` (a product the
subscriptions side turns into a subscription). A customer is referred at most once per program.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from cynco.history import model_history
from cynco.ids import new_id
from cynco.models import TenantModel

__all__ = [
    "CustomerCredit",
    "FreeProductGrant",
    "ReferralCode",
    "ReferralRedemption",
    "RewardProgram",
]


def new_reward_program_id() -> str:
    return new_id("prw")


def new_referral_code_id() -> str:
    return new_id("prc")


def new_referral_redemption_id() -> str:
    return new_id("prr")


def new_customer_credit_id() -> str:
    return new_id("pcrd")


def new_free_product_grant_id() -> str:
    return new_id("pfpg")


class RewardProgram(TenantModel):
    class RewardType(models.TextChoices):
        FREE_PRODUCT = "free_product"
        PERCENTAGE_DISCOUNT = "percentage_discount"
        FIXED_DISCOUNT = "fixed_discount"
        CREDIT = "credit"

    class Trigger(models.TextChoices):
        REFERRAL_SIGNUP = "referral_signup"
        REFERRAL_SUBSCRIBE = "referral_subscribe"

    class Status(models.TextChoices):
        ACTIVE = "active"
        ARCHIVED = "archived"

    id = models.CharField(
        primary_key=True, max_length=40, default=new_reward_program_id, editable=False
    )
    name = models.CharField(max_length=200)
    reward_type = models.CharField(max_length=19, choices=RewardType.choices)
    # Whole percent, minor units of `currency`, or billing periods of the free product.
    reward_value = models.BigIntegerField()
    reward_product = models.ForeignKey(
        "billing.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    currency = models.CharField(max_length=3)
    trigger = models.CharField(
        max_length=18, choices=Trigger.choices, default=Trigger.REFERRAL_SIGNUP
    )
    max_redemptions = models.PositiveIntegerField(null=True, blank=True)
    max_per_referrer = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    metadata = models.JSONField(default=dict, blank=True)
    times_redeemed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    history = model_history(excluded_fields=["times_redeemed"])

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_redemptions__isnull=True)
                | models.Q(times_redeemed__lte=models.F("max_redemptions")),
                name="reward_program_within_max",
            ),
            models.CheckConstraint(
                condition=models.Q(reward_value__gte=1), name="reward_value_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ReferralCode(TenantModel):
    """A code a referrer (`customer`) hands out; unique per merchant+environment, any case."""

    id = models.CharField(
        primary_key=True, max_length=40, default=new_referral_code_id, editable=False
    )
    program = models.ForeignKey(RewardProgram, on_delete=models.PROTECT, related_name="codes")
    customer = models.ForeignKey(
        "billing.Customer", on_delete=models.PROTECT, related_name="referral_codes"
    )
    code = models.CharField(max_length=64)
    max_redemptions = models.PositiveIntegerField(null=True, blank=True)
    times_redeemed = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                models.F("merchant"), models.F("environment"), Lower("code"),
                name="referral_code_unique_ci",
            ),
            models.CheckConstraint(
                condition=models.Q(max_redemptions__isnull=True)
                | models.Q(times_redeemed__lte=models.F("max_redemptions")),
                name="referral_code_within_max",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class ReferralRedemption(TenantModel):
    """A referee's use of a referrer's code, with what each side was given (wire shapes)."""

    id = models.CharField(
        primary_key=True, max_length=40, default=new_referral_redemption_id, editable=False
    )
    program = models.ForeignKey(
        RewardProgram, on_delete=models.PROTECT, related_name="redemptions"
    )
    referral_code = models.ForeignKey(
        ReferralCode, on_delete=models.PROTECT, related_name="redemptions"
    )
    referrer = models.ForeignKey(
        "billing.Customer", on_delete=models.PROTECT, related_name="referrals_made"
    )
    referee = models.ForeignKey(
        "billing.Customer", on_delete=models.PROTECT, related_name="referrals_received"
    )
    referrer_reward = models.JSONField(default=dict)
    referee_reward = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "referee"], name="referral_once_per_referee"
            ),
            models.CheckConstraint(
                condition=~models.Q(referrer=models.F("referee")), name="referral_not_self"
            ),
        ]
        indexes = [
            models.Index(fields=["program", "referrer"], name="referral_referrer_idx"),
        ]


class CustomerCredit(TenantModel):
    """Money owed to a customer, taken off their next invoices (by the invoicing side).

    `remaining` starts at `amount` and only goes down; a credit is used up at 0.
    """

    class Source(models.TextChoices):
        REFERRAL = "referral"
        UPGRADE = "upgrade"  # an upgrade's credit larger than the new plan's first invoice
        PAYMENT = "payment"  # an unapplied payment whose refund failed (UnappliedPayment)

    id = models.CharField(
        primary_key=True, max_length=40, default=new_customer_credit_id, editable=False
    )
    customer = models.ForeignKey(
        "billing.Customer", on_delete=models.PROTECT, related_name="credits"
    )
    amount = models.BigIntegerField()
    remaining = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    source = models.CharField(max_length=16, choices=Source.choices)
    source_id = models.CharField(max_length=40)
    description = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0, remaining__gte=0)
                & models.Q(remaining__lte=models.F("amount")),
                name="customer_credit_within_amount",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "currency"], name="customer_credit_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.remaining}/{self.amount} {self.currency} for {self.customer_id}"


class FreeProductGrant(TenantModel):
    """A product a customer was given, waiting for the subscriptions side to start it."""

    class Status(models.TextChoices):
        PENDING = "pending"
        FULFILLED = "fulfilled"
        CANCELED = "canceled"

    id = models.CharField(
        primary_key=True, max_length=40, default=new_free_product_grant_id, editable=False
    )
    customer = models.ForeignKey(
        "billing.Customer", on_delete=models.PROTECT, related_name="free_product_grants"
    )
    product = models.ForeignKey("billing.Product", on_delete=models.PROTECT, related_name="+")
    # How many billing periods of the product are free.
    periods = models.PositiveIntegerField()
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.PENDING)
    source = models.CharField(max_length=16, default="referral")
    source_id = models.CharField(max_length=40)
    subscription_id = models.CharField(max_length=40, null=True, blank=True)
    created_at = models.DateTimeField()
    fulfilled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["customer", "status"], name="free_product_grant_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} for {self.customer_id} ({self.status})"

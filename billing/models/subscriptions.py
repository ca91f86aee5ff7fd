"""Subscriptions: a customer's holding of one product version, at one price.

A change of plan never edits a row's product: an upgrade (now) or a downgrade (at period end)
ends the row (`canceled`, `replaced_by` set) and starts a new one, so every row's invoices and
grants describe one product. A one-time purchase is recorded as a row that is complete at once
(status `expired`, period [at, at]); its units live in the customer's balances.
"""

from __future__ import annotations

from django.db import models

from cynco.history import model_history
from cynco.ids import new_id
from cynco.models import TenantModel

__all__ = ["Subscription"]


def new_subscription_id() -> str:
    return new_id("psub")


class Subscription(TenantModel):
    class Status(models.TextChoices):
        CHECKOUT = "checkout"
        TRIALING = "trialing"
        ACTIVE = "active"
        PAST_DUE = "past_due"
        CANCELED = "canceled"
        EXPIRED = "expired"
        PAUSED = "paused"

    # A subscription in one of these statuses is the customer's current one in its group.
    CURRENT_STATUSES = (
        Status.CHECKOUT, Status.TRIALING, Status.ACTIVE, Status.PAST_DUE, Status.PAUSED
    )
    # A subscription in one of these gives its features now.
    GRANTING_STATUSES = (Status.TRIALING, Status.ACTIVE)

    id = models.CharField(
        primary_key=True, max_length=40, default=new_subscription_id, editable=False
    )
    customer = models.ForeignKey(
        "billing.Customer", on_delete=models.PROTECT, related_name="subscriptions"
    )
    product = models.ForeignKey(
        "billing.Product", on_delete=models.PROTECT, related_name="subscriptions"
    )
    product_version = models.ForeignKey(
        "billing.ProductVersion", on_delete=models.PROTECT, related_name="subscriptions"
    )
    # Null for a product without prices (a free plan given by default).
    price = models.ForeignKey(
        "billing.Price", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A change that takes effect at current_period_end (a scheduled downgrade).
    scheduled_price = models.ForeignKey(
        "billing.Price", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    current_period_start = models.DateTimeField()
    # Null for a one-off purchase or a forever-free plan: the period never ends.
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    canceled_at = models.DateTimeField(null=True, blank=True)
    trial_end = models.DateTimeField(null=True, blank=True)
    quantity = models.PositiveIntegerField(default=1)
    billing_anchor_day = models.PositiveSmallIntegerField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # The subscription that took this one's place on an upgrade or a scheduled downgrade.
    replaced_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The hosted checkout that is paying for this subscription (status `checkout`).
    checkout = models.ForeignKey(
        "billing.Checkout", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="subscriptions",
    )
    paused_at = models.DateTimeField(null=True, blank=True)
    resume_at = models.DateTimeField(null=True, blank=True)
    # Dunning: when the renewal first failed, how many retries were made, when the next is due.
    past_due_since = models.DateTimeField(null=True, blank=True)
    dunning_retries = models.PositiveSmallIntegerField(default=0)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = model_history()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # What the period-end job picks: rows whose period (or trial) ends by now.
            models.Index(
                fields=["current_period_end"], name="subscription_due_idx",
                condition=models.Q(status__in=["trialing", "active"]),
            ),
            models.Index(
                fields=["next_retry_at"], name="subscription_retry_idx",
                condition=models.Q(status="past_due"),
            ),
            models.Index(
                fields=["resume_at"], name="subscription_resume_idx",
                condition=models.Q(status="paused"),
            ),
            # "the customer's current subscription in this group": customer + status, then
            # the product's group by join (a customer holds a handful of rows).
            models.Index(fields=["customer", "status"], name="subscription_customer_idx"),
            models.Index(
                fields=["merchant", "environment", "status"], name="subscription_status_idx"
            ),
            models.Index(
                fields=["product_version", "status"], name="subscription_version_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="subscription_qty"),
            models.CheckConstraint(
                condition=models.Q(billing_anchor_day__isnull=True)
                | models.Q(billing_anchor_day__gte=1, billing_anchor_day__lte=31),
                name="subscription_anchor_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"

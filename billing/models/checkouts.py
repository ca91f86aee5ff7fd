"""Hosted checkouts: what a customer is about to pay for on our checkout page.

Subscribe answers `action: checkout` with this checkout's page when money is due and no card
can be charged. The subscriptions it pays for wait in status `checkout` until it completes.
"""

from __future__ import annotations

from django.db import models

from cynco.history import model_history
from cynco.ids import new_id
from cynco.models import TenantModel

__all__ = ["Checkout"]


def new_checkout_id() -> str:
    return new_id("pchk")


class Checkout(TenantModel):
    class Status(models.TextChoices):
        OPEN = "open"
        REQUIRES_ACTION = "requires_action"
        COMPLETED = "completed"
        FAILED = "failed"
        CANCELED = "canceled"

    class Mode(models.TextChoices):
        PAYMENT = "payment"  # pay `amount` now and save the card
        SETUP = "setup"  # save a card only (a trial that requires one)

    id = models.CharField(primary_key=True, max_length=40, default=new_checkout_id,
                          editable=False)
    customer = models.ForeignKey(
        "billing.Customer", on_delete=models.PROTECT, related_name="checkouts"
    )
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.OPEN)
    mode = models.CharField(max_length=7, choices=Mode.choices, default=Mode.PAYMENT)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=500)
    # What completing it does, in plain values (billing.services.checkouts reads it).
    plan = models.JSONField(default=dict)
    success_url = models.CharField(max_length=2000, blank=True, default="")
    cancel_url = models.CharField(max_length=2000, blank=True, default="")
    gateway_session_id = models.CharField(max_length=100, blank=True, default="")
    url = models.CharField(max_length=2000, blank=True, default="")  # the hosted page
    failure_code = models.CharField(max_length=40, blank=True, default="")
    failure_message = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField()  # business time
    completed_at = models.DateTimeField(null=True, blank=True)
    # A request paying it now (a saved card charged, the hosted page's card): who, since when
    # (wall clock). While it lasts, another change of the customer's plan answers 409 CONFLICT
    # and an identical one `noop` (billing.services.checkout_claims).
    charging_token = models.CharField(max_length=300, blank=True, default="")
    charging_since = models.DateTimeField(null=True, blank=True)
    history = model_history()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"

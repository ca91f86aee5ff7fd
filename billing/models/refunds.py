"""Refunds: money going back to a customer for an invoice they paid (a cancel_immediately).

A refund is written `pending` in the transaction that decides it (the cancel, under the
customer's lock), then sent through the gateways' refund flow with no lock held
(refund_start / refund_execute, the attempt's key is the refund's id), and its outcome is
recorded in a transaction of its own: `succeeded` posts the ledger's refund entry, `failed`
keeps the gateway's reason and posts nothing.
"""

from __future__ import annotations

from django.db import models

from cynco.history import model_history
from cynco.ids import new_id
from cynco.models import TenantModel
from cynco.money import format_money

__all__ = ["Refund"]


def new_refund_id() -> str:
    return new_id("pref")


class Refund(TenantModel):
    class Status(models.TextChoices):
        PENDING = "pending"  # decided; not sent yet, or the gateway could not be reached
        SUCCEEDED = "succeeded"
        FAILED = "failed"  # the gateway refused it (see failure_*); nothing was posted

    id = models.CharField(primary_key=True, max_length=40, default=new_refund_id, editable=False)
    customer = models.ForeignKey(
        "billing.Customer", on_delete=models.PROTECT, related_name="refunds"
    )
    subscription = models.ForeignKey(
        "billing.Subscription", null=True, blank=True, on_delete=models.PROTECT,
        related_name="refunds",
    )
    invoice = models.ForeignKey(
        "billing.Invoice", on_delete=models.PROTECT, related_name="refunds"
    )
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=200, blank=True, default="")
    # The gateways app's attempts, as plain ids: the charge refunded and the refund attempt.
    charge_attempt_id = models.CharField(max_length=40, blank=True, default="")
    attempt_id = models.CharField(max_length=40, blank=True, default="")
    gateway = models.CharField(max_length=32, blank=True, default="")
    failure_code = models.CharField(max_length=64, blank=True, default="")
    failure_message = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField()  # business time
    settled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)  # wall time: the resume job's age
    history = model_history()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_gt_0"),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="refund_status_idx")]

    def __str__(self) -> str:
        return f"{format_money(self.amount, self.currency)} to {self.customer_id} ({self.status})"

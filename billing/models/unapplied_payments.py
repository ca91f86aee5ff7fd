"""Unapplied payments: money a gateway took for something that was gone when it succeeded.

A plan change decides under the customer's lock and charges with no lock held; by the time the
gateway answers, what it paid for may be gone (its checkout replaced or canceled, the plan it
upgraded canceled) — a 3-D Secure approved late, a hosted page paid while another change won.
Such a payment starts nothing. It is booked as the customer's money (DR 1100-<gateway> /
CR 2100) and refunded through its gateway at once (DR 2100 / CR 1100-<gateway>). A refund the
gateway refuses leaves the money in 2100 as customer credit, `needs attention` for an
operator (billing.selectors.unapplied_payments), announced by `payment.needs_attention`.
"""

from __future__ import annotations

from django.db import models

from cynco.history import model_history
from cynco.ids import new_id
from cynco.models import TenantModel

__all__ = ["UnappliedPayment"]


def new_unapplied_payment_id() -> str:
    return new_id("pupy")


class UnappliedPayment(TenantModel):
    class Status(models.TextChoices):
        REFUNDING = "refunding"  # booked into 2100; the refund is being sent
        REFUNDED = "refunded"  # the gateway gave it back; both legs booked
        HELD = "held"  # the refund failed: customer credit (2100), needs an operator

    id = models.CharField(primary_key=True, max_length=40, default=new_unapplied_payment_id,
                          editable=False)
    customer = models.ForeignKey(
        "billing.Customer", on_delete=models.PROTECT, related_name="unapplied_payments"
    )
    checkout = models.ForeignKey(
        "billing.Checkout", null=True, blank=True, on_delete=models.PROTECT,
        related_name="unapplied_payments",
    )
    gateway = models.CharField(max_length=32)
    # The gateway's id of the payment, and our charge and refund attempts (gateways app).
    provider_payment_id = models.CharField(max_length=100)
    charge_attempt_id = models.CharField(max_length=40, blank=True, default="")
    refund_attempt_id = models.CharField(max_length=40, blank=True, default="")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=500)  # what changed, in words
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.REFUNDING)
    failure_code = models.CharField(max_length=64, blank=True, default="")
    failure_message = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField()  # business time
    settled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)  # wall time: the resume job's age
    history = model_history()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0),
                                   name="unapplied_payment_amount_gt_0"),
            # One payment is unapplied once, however many ways its success arrives.
            models.UniqueConstraint(
                fields=["merchant_id", "environment", "gateway", "provider_payment_id"],
                name="unapplied_payment_once"),
        ]
        indexes = [models.Index(fields=["status", "created_at"],
                                name="unapplied_payment_status_idx")]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} from {self.customer_id} ({self.status})"

"""The sandbox gateway's own state: what a real provider would keep on its side.

Kept in its own tables (not in memory) so that the sandbox behaves like a real provider across
web and worker processes: a session opened by one process is completed by another, and an
idempotency key answers the first result whichever process asks. Rows are namespaced by
merchant+environment, as a provider namespaces them by account. Card numbers stored here are
the sandbox's published test numbers only (others are refused before anything is stored).
"""

from __future__ import annotations

from django.db import models

from cynco.ids import new_id


def new_sandbox_session_id() -> str:
    return new_id("sbx_cs")


def new_sandbox_payment_id() -> str:
    return new_id("sbx_pay")


def new_sandbox_refund_id() -> str:
    return new_id("sbx_re")


def new_sandbox_payment_method_id() -> str:
    return new_id("sbx_pm")


class SandboxAccountRow(models.Model):
    """Whose sandbox a row is in; `account_id` is the GatewayAccount used, if not the default."""

    merchant_id = models.CharField(max_length=40)
    environment = models.CharField(max_length=4)
    account_id = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class SandboxPaymentMethod(SandboxAccountRow):
    id = models.CharField(primary_key=True, max_length=48, default=new_sandbox_payment_method_id)
    customer_reference = models.CharField(max_length=64, blank=True)
    card_number = models.CharField(max_length=19)
    brand = models.CharField(max_length=16)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()

    class Meta:
        app_label = "gateways"

    @property
    def last4(self) -> str:
        return self.card_number[-4:]


class SandboxSession(SandboxAccountRow):
    class Status(models.TextChoices):
        OPEN = "open"
        REQUIRES_ACTION = "requires_action"
        COMPLETE = "complete"
        EXPIRED = "expired"

    id = models.CharField(primary_key=True, max_length=48, default=new_sandbox_session_id)
    mode = models.CharField(max_length=8)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    customer_reference = models.CharField(max_length=64, blank=True)
    description = models.CharField(max_length=500, blank=True)
    success_url = models.URLField(max_length=1000, blank=True)
    cancel_url = models.URLField(max_length=1000, blank=True)
    save_payment_method = models.BooleanField(default=False)
    metadata = models.JSONField(default=dict, blank=True)
    idempotency_key = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    # The last card attempt: a declined one leaves the session open with its failure shown.
    payment = models.ForeignKey(
        "gateways.SandboxPayment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payment_method = models.ForeignKey(
        SandboxPaymentMethod, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)

    class Meta:
        app_label = "gateways"
        constraints = [
            models.UniqueConstraint(
                fields=["merchant_id", "environment", "idempotency_key"],
                name="sandbox_session_key_unique",
            )
        ]


class SandboxPayment(SandboxAccountRow):
    class Status(models.TextChoices):
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        REQUIRES_ACTION = "requires_action"

    id = models.CharField(primary_key=True, max_length=48, default=new_sandbox_payment_id)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    session = models.ForeignKey(
        SandboxSession, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    payment_method = models.ForeignKey(
        SandboxPaymentMethod, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    card_number = models.CharField(max_length=19)
    off_session = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices)
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    amount_refunded = models.BigIntegerField(default=0)
    # Off-session charges only; a checkout's card attempts are keyed by their session.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    request_fingerprint = models.CharField(max_length=64, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        app_label = "gateways"
        constraints = [
            models.UniqueConstraint(
                fields=["merchant_id", "environment", "idempotency_key"],
                name="sandbox_payment_key_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_refunded__lte=models.F("amount")),
                name="sandbox_refund_within_payment",
            ),
        ]


class SandboxRefund(SandboxAccountRow):
    id = models.CharField(primary_key=True, max_length=48, default=new_sandbox_refund_id)
    payment = models.ForeignKey(SandboxPayment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField()
    idempotency_key = models.CharField(max_length=255)

    class Meta:
        app_label = "gateways"
        constraints = [
            models.UniqueConstraint(
                fields=["merchant_id", "environment", "idempotency_key"],
                name="sandbox_refund_key_unique",
            )
        ]

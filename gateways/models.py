"""What this server remembers about payments, whatever the gateway (DESIGN.md, Gateways).

The gateways app knows nothing of billing: a customer or an invoice is referred to by its id as
a plain string (`customer_reference`, `source_reference`), never by a foreign key, so that
dependencies point one way (billing → gateways). Billing keeps those references consistent.
"""

from __future__ import annotations

from django.db import models

from cynco.history import model_history
from cynco.ids import new_id
from cynco.models import TenantModel
from gateways.credentials import EncryptedTextField


def new_payment_method_id() -> str:
    return new_id("ppm")


def new_payment_attempt_id() -> str:
    return new_id("payat")


def new_webhook_event_id() -> str:
    return new_id("gwe")


def new_gateway_account_id() -> str:
    return new_id("gwa")


class GatewayAccount(TenantModel):
    """Credentials an operator assigned to one merchant+environment, replacing the server default.

    At most one account is active per merchant+environment (`gateways.registry` picks it).
    `secret_key` and `webhook_secret` are encrypted at rest and never shown in the admin;
    `options` holds what is not secret (a CHIP brand id, a base URL for tests).
    """

    id = models.CharField(primary_key=True, max_length=40, default=new_gateway_account_id,
                          editable=False)
    gateway = models.CharField(max_length=32)
    label = models.CharField(max_length=200, blank=True)
    secret_key = EncryptedTextField(blank=True, default="")
    webhook_secret = EncryptedTextField(blank=True, default="")
    options = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = model_history(excluded_fields=["secret_key", "webhook_secret"])

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "environment"],
                condition=models.Q(is_active=True),
                name="gateway_account_one_active",
            )
        ]

    def __str__(self) -> str:
        return f"{self.gateway} ({self.environment}) {self.label}".strip()


class PaymentMethod(TenantModel):
    """A payment method a gateway saved for a customer, charged later off-session by `token`.

    `customer_reference` is billing's customer id (a plain string: see the module docstring).
    """

    class Status(models.TextChoices):
        ACTIVE = "active"
        DETACHED = "detached"

    id = models.CharField(primary_key=True, max_length=40, default=new_payment_method_id,
                          editable=False)
    customer_reference = models.CharField(max_length=64, db_index=True)
    gateway = models.CharField(max_length=32)
    gateway_account = models.ForeignKey(
        GatewayAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    token = models.CharField(max_length=255)
    type = models.CharField(max_length=32, default="card")
    brand = models.CharField(max_length=32, blank=True)
    last4 = models.CharField(max_length=4, blank=True)
    exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    is_default = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    history = model_history()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "environment", "gateway", "token"],
                name="payment_method_token_unique",
            ),
            models.UniqueConstraint(
                fields=["merchant", "environment", "customer_reference"],
                condition=models.Q(is_default=True, status="active"),
                name="payment_method_one_default",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand or self.type} •••• {self.last4}" if self.last4 else self.id


class PaymentAttempt(TenantModel):
    """One charge or refund sent (or about to be sent) to a gateway.

    Written `pending` and committed before the gateway is called, then settled in a second
    transaction (DESIGN.md, Concurrency). `idempotency_key` is this attempt's own key, sent to
    the gateway, so a retry or the recovery sweeper never moves money twice.
    """

    class Kind(models.TextChoices):
        CHARGE = "charge"
        REFUND = "refund"

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        REQUIRES_ACTION = "requires_action"
        CANCELED = "canceled"

    FINAL = (Status.SUCCEEDED, Status.FAILED, Status.CANCELED)

    id = models.CharField(primary_key=True, max_length=40, default=new_payment_attempt_id,
                          editable=False)
    gateway = models.CharField(max_length=32)
    gateway_account = models.ForeignKey(
        GatewayAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    idempotency_key = models.CharField(max_length=255)
    payment_method = models.ForeignKey(
        PaymentMethod, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The refunded charge, for a refund.
    charge = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    customer_reference = models.CharField(max_length=64, blank=True)
    source_reference = models.CharField(max_length=64, blank=True, db_index=True)
    description = models.CharField(max_length=500, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    provider_payment_id = models.CharField(max_length=255, blank=True)
    provider_refund_id = models.CharField(max_length=255, blank=True)
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    action_url = models.URLField(max_length=1000, blank=True)
    # Gateway calls made for this attempt, and the last one that did not answer.
    attempts_count = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "environment", "idempotency_key"],
                name="payment_attempt_key_unique",
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_attempt_amount"),
            models.CheckConstraint(
                condition=models.Q(kind="charge", charge__isnull=True)
                | models.Q(kind="refund", charge__isnull=False),
                name="payment_attempt_refund_has_charge",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "updated_at"], name="payment_attempt_sweep_idx"),
            models.Index(fields=["gateway", "provider_payment_id"], name="payment_attempt_pay_idx"),
            models.Index(fields=["gateway", "provider_refund_id"], name="payment_attempt_ref_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency} {self.status}"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL


class WebhookEvent(models.Model):
    """An incoming gateway webhook, stored exactly as received before anything else happens.

    Verified events are unique per (gateway, provider_event_id), so a replay is recognised and
    never processed twice. Events whose signature failed are kept for inspection with no event
    id (an unverified id must not take the slot of the real event) and are never processed.
    Merchant and environment are filled in once known (an event on a server-default endpoint
    is only tied to a merchant through the payment it is about).
    """

    id = models.CharField(primary_key=True, max_length=40, default=new_webhook_event_id,
                          editable=False)
    gateway = models.CharField(max_length=32)
    gateway_account = models.ForeignKey(
        GatewayAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merchant = models.ForeignKey(
        "cynco.Merchant", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    environment = models.CharField(max_length=4, blank=True)
    provider_event_id = models.CharField(max_length=255, null=True, blank=True)
    event_type = models.CharField(max_length=64, blank=True)
    body = models.BinaryField()
    headers = models.JSONField(default=dict)
    verified = models.BooleanField(default=False)
    # The normalized event (`GatewayEvent` as JSON), kept so reprocessing needs no re-verification.
    event = models.JSONField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    processing_error = models.TextField(blank=True)
    processing_attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "provider_event_id"], name="webhook_event_unique"
            )
        ]
        indexes = [models.Index(fields=["processed_at", "received_at"], name="webhook_todo_idx")]

    def __str__(self) -> str:
        return f"{self.gateway} {self.event_type or '?'} {self.provider_event_id or self.id}"


# The sandbox gateway's provider-side tables belong to this app (one migrations folder).
from gateways.sandbox.models import (  # noqa: E402,F401
    SandboxPayment,
    SandboxPaymentMethod,
    SandboxRefund,
    SandboxSession,
)

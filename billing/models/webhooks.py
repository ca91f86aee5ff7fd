"""Outgoing webhooks: endpoints a merchant registers, the outbox of events, and every delivery.

An `OutgoingEvent` is written in the same transaction as the business change that causes it
(`billing.services.webhooks.emit_event`), with one `WebhookDelivery` per subscribed endpoint.
A worker then POSTs the stored body and records each try as a `WebhookAttempt`.
"""

from __future__ import annotations

from django.db import models

from cynco.ids import new_id
from cynco.models import TenantModel

__all__ = [
    "EVENT_TYPES",
    "OutgoingEvent",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]

# API.md, "Outgoing webhooks": the only types an endpoint may subscribe to and a service may emit.
EVENT_TYPES = (
    "subscription.created",
    "subscription.activated",
    "subscription.renewed",
    "subscription.upgraded",
    "subscription.downgraded",
    "subscription.updated",
    "subscription.canceled",
    "subscription.expired",
    "subscription.paused",
    "subscription.resumed",
    "payment.succeeded",
    "payment.failed",
    "payment.refunded",
    "payment.needs_attention",
    "invoice.created",
    "invoice.paid",
    "entitlement.exhausted",
    "entitlement.threshold_reached",
)

URL_MAX_LENGTH = 2048


def new_webhook_endpoint_id() -> str:
    return new_id("pwh")


def new_outgoing_event_id() -> str:
    return new_id("evt")


def new_webhook_delivery_id() -> str:
    return new_id("pwhd")


class WebhookEndpoint(TenantModel):
    """A URL of the merchant that receives events, signed with its own secret.

    `events` is None for "every event type", else the list subscribed to. A deleted endpoint is
    kept (status `deleted`) so its delivery history stays readable; it receives nothing more.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DISABLED = "disabled", "Disabled"
        DELETED = "deleted", "Deleted"

    id = models.CharField(
        primary_key=True, max_length=40, default=new_webhook_endpoint_id, editable=False
    )
    url = models.CharField(max_length=URL_MAX_LENGTH)
    secret = models.CharField(max_length=80, editable=False)
    events = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["merchant", "environment", "status"], name="webhook_endpoint_idx")
        ]

    def __str__(self) -> str:
        return self.url

    def receives(self, event_type: str) -> bool:
        return self.events is None or event_type in self.events


class OutgoingEvent(TenantModel):
    """One event of the outbox. `payload` is the exact JSON body sent, serialized once."""

    id = models.CharField(
        primary_key=True, max_length=40, default=new_outgoing_event_id, editable=False
    )
    type = models.CharField(max_length=60)
    payload = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["merchant", "environment", "type"], name="outgoing_event_idx")
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class WebhookDelivery(TenantModel):
    """Getting one event to one endpoint, over as many attempts as it takes.

    `next_attempt_at` is when a worker may try next (wall clock); a worker that picks the row
    moves it forward by a lease first, so no other worker picks it while the POST is in flight.
    Retries continue until `retry_from` plus the retry window has passed (WEBHOOK_RETRY_HOURS).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    id = models.CharField(
        primary_key=True, max_length=40, default=new_webhook_delivery_id, editable=False
    )
    event = models.ForeignKey(OutgoingEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    retry_from = models.DateTimeField()
    last_response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="webhook_delivery_unique")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="webhook_delivery_due_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id}"


class WebhookAttempt(models.Model):
    """One POST of a delivery: what came back (or what went wrong) and how long it took."""

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField()
    error = models.TextField(blank=True, default="")
    response_body = models.TextField(blank=True, default="")
    attempted_at = models.DateTimeField()

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_unique")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.outcome}"

"""The audit trail: who changed what, kept as plain ids so history outlives deleted rows."""

from __future__ import annotations

from django.db import models

from cynco.ids import new_id
from cynco.models import TenantModel

__all__ = ["AuditEvent"]


def new_audit_event_id() -> str:
    return new_id("paudit")


class AuditEvent(TenantModel):
    """One mutation, written by the service that made it inside the same transaction.

    `customer_id` and `subscription_id` are the ids of the rows involved as plain strings (no
    foreign keys), so deleting a customer never deletes or blocks its history.
    """

    class ActorType(models.TextChoices):
        API = "api", "API"
        SYSTEM = "system", "System"
        CRON = "cron", "Cron"

    id = models.CharField(
        primary_key=True, max_length=40, default=new_audit_event_id, editable=False
    )
    event = models.CharField(max_length=80)
    actor_type = models.CharField(max_length=6, choices=ActorType.choices)
    actor_key_id = models.CharField(max_length=40, null=True, blank=True)
    customer_id = models.CharField(max_length=255, null=True, blank=True)
    subscription_id = models.CharField(max_length=40, null=True, blank=True)
    resource_type = models.CharField(max_length=40, null=True, blank=True)
    resource_id = models.CharField(max_length=255, null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["merchant", "environment", "-created_at"], name="audit_time_idx"),
            models.Index(
                fields=["merchant", "environment", "customer_id"], name="audit_customer_idx"
            ),
            models.Index(
                fields=["merchant", "environment", "subscription_id"], name="audit_subscription_idx"
            ),
            models.Index(fields=["merchant", "environment", "event"], name="audit_event_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.id}"

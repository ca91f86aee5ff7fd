"""Customers: the merchant's users, known to us by the merchant's own id (`externalId`)."""

from __future__ import annotations

from django.db import models

from cynco.history import model_history
from cynco.ids import new_id
from cynco.models import TenantModel

__all__ = ["Customer"]


def new_customer_id() -> str:
    return new_id("pcm")


class CustomerQuerySet(models.QuerySet):
    def for_scope(self, scope) -> "CustomerQuerySet":
        return self.filter(merchant_id=scope.merchant_id, environment=scope.environment)

    def active(self) -> "CustomerQuerySet":
        """Customers that were not deleted (deleted ones answer 404 everywhere)."""
        return self.filter(deleted_at__isnull=True)


class Customer(TenantModel):
    """One customer of a merchant's environment.

    Deleting is soft (`deleted_at`): the row, its subscriptions and its ledger history stay.
    `external_id` is unique among the customers that are not deleted, so the same external id
    used again after a delete makes a new customer.
    """

    id = models.CharField(primary_key=True, max_length=40, default=new_customer_id, editable=False)
    external_id = models.CharField(max_length=255)
    name = models.CharField(max_length=200, null=True, blank=True)
    email = models.EmailField(max_length=254, null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    history = model_history()

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "environment", "external_id"],
                condition=models.Q(deleted_at__isnull=True),
                name="customer_external_id_unique",
            )
        ]
        indexes = [
            models.Index(fields=["merchant", "environment", "email"], name="customer_email_idx"),
        ]

    def __str__(self) -> str:
        return self.external_id

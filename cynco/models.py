"""Platform records every app stands on: merchants, their staff, API keys, idempotency, clocks."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cynco.history import model_history
from cynco.ids import new_id


class Environment(models.TextChoices):
    LIVE = "live", "Live"
    TEST = "test", "Test"


def new_merchant_id() -> str:
    return new_id("mer")


def new_api_key_id() -> str:
    return new_id("pak")


class Merchant(models.Model):
    """A business that sells through this server. It owns every other row, in two environments."""

    id = models.CharField(primary_key=True, max_length=40, default=new_merchant_id, editable=False)
    name = models.CharField(max_length=200)
    default_currency = models.CharField(max_length=3, default="MYR")
    # Per-key request rates for this merchant's keys (cynco.rate_limits); empty: the defaults.
    rate_limit_usage_per_second = models.PositiveIntegerField(
        null=True, blank=True, help_text="check and track, per key; empty: the server's default"
    )
    rate_limit_api_per_second = models.PositiveIntegerField(
        null=True, blank=True, help_text="every other endpoint, per key; empty: the server's default"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = model_history()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MerchantStaff(models.Model):
    """Ties a Django admin user to the one merchant they work for (superusers see every merchant)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="merchant_staff"
    )
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="staff")

    class Meta:
        verbose_name_plural = "merchant staff"

    def __str__(self) -> str:
        return f"{self.user} @ {self.merchant}"


class TenantQuerySet(models.QuerySet):
    def for_scope(self, scope) -> "TenantQuerySet":
        """Rows of one merchant and environment (see `cynco.tenancy.Scope`)."""
        return self.filter(merchant_id=scope.merchant_id, environment=scope.environment)


class TenantModel(models.Model):
    """Base of every row that belongs to a merchant's environment."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    environment = models.CharField(max_length=4, choices=Environment.choices)

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


class ApiKey(TenantModel):
    """A key that authenticates API calls for one merchant and environment.

    Only the SHA-256 of the raw key is stored, plus a visible prefix to tell keys apart.
    """

    class Type(models.TextChoices):
        SECRET = "secret", "Secret"
        PUBLISHABLE = "publishable", "Publishable"

    # Scopes a merchant may grant a publishable key beyond its defaults (API.md, Publishable keys).
    PUBLISHABLE_SCOPES = ("track", "portal")

    id = models.CharField(primary_key=True, max_length=40, default=new_api_key_id, editable=False)
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=12, choices=Type.choices)
    key_prefix = models.CharField(max_length=24)
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    history = model_history(excluded_fields=["last_used_at"])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @property
    def status(self) -> str:
        return "revoked" if self.revoked_at else "active"

    @property
    def is_secret(self) -> bool:
        return self.type == self.Type.SECRET


class IdempotencyRecord(TenantModel):
    """What a request sent with an `Idempotency-Key` answered, so a retry gets the same answer."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress"
        COMPLETED = "completed"

    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=12, choices=State.choices, default=State.IN_PROGRESS)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.BinaryField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "environment", "key"], name="idempotency_key_unique"
            )
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]


class EnvironmentClock(TenantModel):
    """How far an environment's business clock runs ahead of the wall clock (test mode only)."""

    offset_seconds = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "environment"], name="clock_unique"),
            models.CheckConstraint(
                condition=models.Q(offset_seconds=0) | models.Q(environment="test"),
                name="clock_live_never_offset",
            ),
        ]

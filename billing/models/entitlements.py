"""Entitlements: what a customer may use now, and what it used (DESIGN.md, Concurrency).

A `Balance` row per (customer, feature, entity) holds this period's `granted`, `used` and
`reserved` amounts and is updated in place under the customer's lock; check and track read and
write that one row and never add up history. `BalanceGrant`s are where `granted` comes from
(subscriptions, one-off purchases, manual grants). `UsageEvent`s are appended for history and
`/events`; `PeriodUsage` is a closed period (what overage it owes, and whether it was billed).
`BalanceLock` is a reservation made by `check` with `lock`. `Entity` is a seat or workspace;
`SpendCap` bounds the overage cost of a period.

`entity_key` is the merchant's `entityId`, or "" for the customer's own balance.
No django-simple-history on the hot tables: they change on every track.
"""

from __future__ import annotations

from django.db import models

from billing.models.catalog import USAGE_DIGITS
from cynco.history import model_history
from cynco.ids import new_id, new_ids
from cynco.models import TenantModel

__all__ = [
    "Balance",
    "BalanceGrant",
    "BalanceLock",
    "Entity",
    "PeriodUsage",
    "SpendCap",
    "UsageEvent",
]


def new_balance_id() -> str:
    return new_id("pbal")


def new_balance_grant_id() -> str:
    return new_id("pbg")


def new_usage_event_id() -> str:
    return new_id("pue")


def new_usage_event_ids(count: int) -> list[str]:
    """Ids of events appended together, in their order (cynco.ids.new_ids)."""
    return new_ids("pue", count)


def new_period_usage_id() -> str:
    return new_id("ppu")


def new_lock_id() -> str:
    return new_id("lock")


def new_entity_id() -> str:
    return new_id("pent")


def new_spend_cap_id() -> str:
    return new_id("pcap")


class ResetInterval(models.TextChoices):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


class Balance(TenantModel):
    """One feature's standing for one customer (or one of its entities) in the current period.

    `granted - used - reserved` is what is left. `unlimited`, `overage_allowed`,
    `overage_price` and `spend_cap` are copied here from the grants and caps (by
    entitlement_sync and the spend-cap service) so check and track read one row. The period
    resets lazily when `period_end` has passed: every `reset_count` `reset_interval`s counted
    from `period_anchor` (null interval: the period never ends). `next_lock_expiry` is the
    earliest expiry of an open lock on this balance, so the hot path sees at a glance whether
    a reservation must be given back first.
    """

    id = models.CharField(primary_key=True, max_length=40, default=new_balance_id, editable=False)
    # Updated by every track: no index of its own on the customer (balance_unique starts with
    # it), so an update that cannot stay on its page (HOT) maintains fewer indexes.
    customer = models.ForeignKey("billing.Customer", on_delete=models.CASCADE, related_name="+",
                                 db_index=False)
    feature = models.ForeignKey("billing.Feature", on_delete=models.CASCADE, related_name="+")
    entity_key = models.CharField(max_length=255, blank=True, default="")
    is_boolean = models.BooleanField(default=False)
    granted = models.DecimalField(default=0, **USAGE_DIGITS)
    used = models.DecimalField(default=0, **USAGE_DIGITS)
    reserved = models.DecimalField(default=0, **USAGE_DIGITS)
    unlimited = models.BooleanField(default=False)
    overage_allowed = models.BooleanField(default=False)
    overage_price = models.BigIntegerField(null=True, blank=True)
    spend_cap = models.BigIntegerField(null=True, blank=True)
    # The subscription whose periods this balance follows (and whose invoice bills overage).
    subscription = models.ForeignKey(
        "billing.Subscription", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    period_anchor = models.DateTimeField()
    period_start = models.DateTimeField()
    period_end = models.DateTimeField(null=True, blank=True)
    reset_interval = models.CharField(
        max_length=5, choices=ResetInterval.choices, null=True, blank=True
    )
    reset_count = models.PositiveSmallIntegerField(default=1)
    anchor_day = models.PositiveSmallIntegerField(null=True, blank=True)
    next_lock_expiry = models.DateTimeField(null=True, blank=True)
    # Highest usage threshold announced this period: 0, 80 (threshold_reached), 100 (exhausted).
    threshold_sent = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "feature", "entity_key"], name="balance_unique"
            ),
            models.CheckConstraint(condition=models.Q(reserved__gte=0), name="balance_reserved"),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.feature_id})"


class BalanceGrant(TenantModel):
    """A source of allowance for one feature of one customer.

    From a subscription (one per subscription and feature, following its product version's
    FeatureGrant times quantity), a one-off purchase (`remaining` is what is left of it and
    never resets), or a manual grant (`/balances/create`). `per_entity` grants give every
    entity of the customer its own balance of `allowance`. Ended grants stay for history.
    """

    class Source(models.TextChoices):
        SUBSCRIPTION = "subscription"
        PURCHASE = "purchase"
        MANUAL = "manual"

    id = models.CharField(
        primary_key=True, max_length=40, default=new_balance_grant_id, editable=False
    )
    customer = models.ForeignKey("billing.Customer", on_delete=models.CASCADE, related_name="+")
    feature = models.ForeignKey("billing.Feature", on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=12, choices=Source.choices)
    subscription = models.ForeignKey(
        "billing.Subscription", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    allowance = models.DecimalField(default=0, **USAGE_DIGITS)
    # What is left of a grant that never resets (purchases, one-off manual grants).
    remaining = models.DecimalField(null=True, blank=True, **USAGE_DIGITS)
    unlimited = models.BooleanField(default=False)
    overage_allowed = models.BooleanField(default=False)
    overage_price = models.BigIntegerField(null=True, blank=True)
    # day|week|month|year; "one_off" never resets; null follows the subscription's periods.
    reset_interval = models.CharField(max_length=7, null=True, blank=True)
    per_entity = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["customer", "feature", "active"], name="balance_grant_lookup"),
            models.Index(fields=["subscription", "active"], name="balance_grant_subscription"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "feature"],
                condition=models.Q(source="subscription"),
                name="balance_grant_subscription_feature",
            )
        ]


class UsageEvent(TenantModel):
    """One recorded use (or correction) of a feature, appended, never changed.

    `idempotency_key` (track's `idempotencyKey`) is unique per customer, which is what makes a
    repeated track count once even when the repeats race.
    """

    class Source(models.TextChoices):
        TRACK = "track"
        CHECK = "check"
        LOCK = "lock"
        ENTITY = "entity"
        ADJUSTMENT = "adjustment"

    id = models.CharField(
        primary_key=True, max_length=40, default=new_usage_event_id, editable=False
    )
    # Appended on every check and track: no index of its own on the foreign keys (each would
    # cost every append; two per key, with the LIKE one). The timeline index starts with the
    # customer; lookups by merchant or feature alone are for deletions, which never happen.
    merchant = models.ForeignKey(
        "cynco.Merchant", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    customer = models.ForeignKey(
        "billing.Customer", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    feature = models.ForeignKey(
        "billing.Feature", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    entity_key = models.CharField(max_length=255, blank=True, default="")
    amount = models.DecimalField(**USAGE_DIGITS)
    source = models.CharField(max_length=10, choices=Source.choices)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    metadata = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            # /events: one customer's feature over a time range, aggregated by period.
            models.Index(
                fields=["customer", "feature", "created_at"], name="usage_event_timeline",
                include=["amount"],
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="usage_event_idempotency",
            )
        ]


class PeriodUsage(TenantModel):
    """A closed period of one balance: what was granted and used, and the overage it owes.

    Made exactly once per (balance, period_start); `invoice_id` is set when the overage was
    put on an invoice, so nothing is billed twice.
    """

    id = models.CharField(
        primary_key=True, max_length=40, default=new_period_usage_id, editable=False
    )
    balance = models.ForeignKey(Balance, null=True, on_delete=models.SET_NULL, related_name="+")
    customer = models.ForeignKey("billing.Customer", on_delete=models.CASCADE, related_name="+")
    feature = models.ForeignKey("billing.Feature", on_delete=models.CASCADE, related_name="+")
    entity_key = models.CharField(max_length=255, blank=True, default="")
    subscription = models.ForeignKey(
        "billing.Subscription", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    granted = models.DecimalField(**USAGE_DIGITS)
    used = models.DecimalField(**USAGE_DIGITS)
    overage_units = models.DecimalField(default=0, **USAGE_DIGITS)
    overage_price = models.BigIntegerField(null=True, blank=True)
    overage_amount = models.BigIntegerField(default=0)
    invoice_id = models.CharField(max_length=40, null=True, blank=True)
    closed_at = models.DateTimeField()

    class Meta:
        ordering = ["period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "feature", "entity_key", "period_start"],
                name="period_usage_once",
            )
        ]
        indexes = [models.Index(fields=["subscription", "period_end"], name="period_usage_sub")]


class BalanceLock(TenantModel):
    """A reservation of `amount` on a balance until `expires_at` (check with `lock`).

    `lock_key` is the client's `lock.lockId` (or our own id), unique per customer.
    """

    class Status(models.TextChoices):
        OPEN = "open"
        CONFIRMED = "confirmed"
        RELEASED = "released"
        EXPIRED = "expired"

    id = models.CharField(primary_key=True, max_length=40, default=new_lock_id, editable=False)
    customer = models.ForeignKey("billing.Customer", on_delete=models.CASCADE, related_name="+")
    balance = models.ForeignKey(Balance, on_delete=models.CASCADE, related_name="+")
    lock_key = models.CharField(max_length=255)
    amount = models.DecimalField(**USAGE_DIGITS)
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.OPEN)
    used = models.DecimalField(null=True, blank=True, **USAGE_DIGITS)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    finalized_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "lock_key"], name="balance_lock_key"),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"], condition=models.Q(status="open"),
                name="balance_lock_open_expiry",
            ),
            models.Index(fields=["merchant", "environment", "lock_key"], name="balance_lock_find"),
        ]


class Entity(TenantModel):
    """A seat, workspace or user of a customer, counting one unit of `feature`."""

    id = models.CharField(primary_key=True, max_length=40, default=new_entity_id, editable=False)
    customer = models.ForeignKey("billing.Customer", on_delete=models.CASCADE, related_name="+")
    feature = models.ForeignKey("billing.Feature", on_delete=models.PROTECT, related_name="+")
    entity_key = models.CharField(max_length=255)
    name = models.CharField(max_length=200, null=True, blank=True)
    metadata = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()
    deleted_at = models.DateTimeField(null=True, blank=True)
    history = model_history()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "entities"
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "entity_key"], condition=models.Q(deleted_at__isnull=True),
                name="entity_key_unique",
            )
        ]


class SpendCap(TenantModel):
    """The most a period's overage of `feature` may cost, for one customer or, as the default
    of its subscribers, for one product. `cap_cents` is in minor units."""

    id = models.CharField(
        primary_key=True, max_length=40, default=new_spend_cap_id, editable=False
    )
    customer = models.ForeignKey(
        "billing.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    product = models.ForeignKey(
        "billing.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    feature = models.ForeignKey("billing.Feature", on_delete=models.CASCADE, related_name="+")
    cap_cents = models.BigIntegerField()
    updated_at = models.DateTimeField(auto_now=True)
    history = model_history()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "feature"], condition=models.Q(customer__isnull=False),
                name="spend_cap_customer",
            ),
            models.UniqueConstraint(
                fields=["product", "feature"], condition=models.Q(product__isnull=False),
                name="spend_cap_product",
            ),
            models.CheckConstraint(
                condition=models.Q(customer__isnull=False) ^ models.Q(product__isnull=False),
                name="spend_cap_owner",
            ),
            models.CheckConstraint(condition=models.Q(cap_cents__gte=0), name="spend_cap_gte_0"),
        ]

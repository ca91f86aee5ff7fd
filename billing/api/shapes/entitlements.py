"""check, track and lock answers, balances, entities, spend caps and usage history (API.md,
Core; Subscriptions, balances, entities; docs/entitlements.md)."""

from __future__ import annotations

from rest_framework import serializers as s

from billing.api.shapes.customers import usage_number


class CheckResultShape(s.Serializer):
    """`balance`, `limit`, `granted` and `usage` are null for a boolean feature; `limit`,
    `granted` and `balance` are null for an unlimited one. `lockId` only with `lock`."""

    allowed = s.BooleanField()
    balance = usage_number(allow_null=True)
    limit = usage_number(allow_null=True)
    granted = usage_number(allow_null=True)
    usage = usage_number(allow_null=True)
    unlimited = s.BooleanField()
    overageAllowed = s.BooleanField()
    lockId = s.CharField(required=False)


class TrackResultShape(s.Serializer):
    """`recorded: false, spendCapExceeded: true` when the amount would push the period's
    overage past the spend cap; `duplicate: true` for a repeated `idempotencyKey`."""

    recorded = s.BooleanField()
    allowed = s.BooleanField()
    balance = usage_number(allow_null=True)
    limit = usage_number(allow_null=True)
    unlimited = s.BooleanField()
    duplicate = s.BooleanField()
    spendCapExceeded = s.BooleanField()


class TrackBatchErrorShape(s.Serializer):
    """The error /track would have answered for this event (its code, message, details)."""

    code = s.CharField()
    message = s.CharField()
    details = s.ListField(child=s.DictField())


class TrackBatchItemShape(s.Serializer):
    """One event's answer: `accepted` (recorded), `duplicate` (its idempotencyKey was already
    recorded for the customer), `denied` (the spend cap: nothing written) or `error`.
    `balance` (after the event; null when unlimited) for all but `error`."""

    index = s.IntegerField(help_text="The event's position in `events`, from 0.")
    status = s.ChoiceField(choices=["accepted", "duplicate", "denied", "error"])
    balance = usage_number(allow_null=True, required=False)
    error = TrackBatchErrorShape(required=False)


class TrackBatchResultShape(s.Serializer):
    results = TrackBatchItemShape(many=True, help_text="One per event, in their order.")


class FinalizeResultShape(s.Serializer):
    success = s.BooleanField()
    adjusted = usage_number(help_text="Reserved minus used (negative when more was used).")


class BalanceShape(s.Serializer):
    """A customer's balance of one feature; `balance`, `granted` and `limit` are null when
    unlimited."""

    id = s.CharField()
    customerId = s.CharField()
    featureId = s.CharField(help_text="The feature's slug.")
    balance = usage_number(allow_null=True)
    granted = usage_number(allow_null=True)
    usage = usage_number()
    limit = usage_number(allow_null=True)
    unlimited = s.BooleanField()
    resetInterval = s.CharField(help_text="month, year, one_off, …")
    periodStart = s.DateTimeField()
    periodEnd = s.DateTimeField(allow_null=True)


class EntityShape(s.Serializer):
    id = s.CharField()
    customerId = s.CharField()
    entityId = s.CharField(help_text="The merchant's id of the entity.")
    featureId = s.CharField()
    name = s.CharField(allow_null=True)
    metadata = s.DictField(allow_null=True)
    createdAt = s.DateTimeField()


class SpendCapStatusShape(s.Serializer):
    """Cents of overage accrued this period against the cap; `capCents` null: no cap."""

    customerId = s.CharField()
    featureId = s.CharField()
    capCents = s.IntegerField(allow_null=True)
    accruedCents = s.IntegerField()
    remainingCents = s.IntegerField(allow_null=True)
    unlimited = s.BooleanField()


class ProductSpendCapShape(s.Serializer):
    """The default cap of a product's feature, for its subscribers."""

    scope = s.ChoiceField(choices=["product"])
    productId = s.CharField()
    featureId = s.CharField()
    capCents = s.IntegerField(allow_null=True)


class UsagePeriodShape(s.Serializer):
    period = s.CharField(help_text="The day, week or month, e.g. 2026-11-03 or 2026-11.")
    count = s.IntegerField()
    total = usage_number()


class UsageTotalShape(s.Serializer):
    count = s.IntegerField()
    sum = usage_number()


class UsageTimelineShape(s.Serializer):
    timeline = UsagePeriodShape(many=True)
    total = UsageTotalShape()

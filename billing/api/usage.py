"""`/check`, `/track` and `/balances/finalize` (API.md, Core).

A publishable key may `check` without `sendEvent` or `lock`; `track` needs the `track` scope;
finalizing needs a secret key.
"""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from billing.api.shapes.entitlements import (
    CheckResultShape, FinalizeResultShape, TrackResultShape,
)
from billing.services import balance_locks, usage
from cynco import metrics
from cynco.api.schema import openapi
from cynco.api.views import ApiView
from cynco.fields import (
    StrictBooleanField, StrictCharField, StrictIntegerField, StrictJSONObjectField,
    UsageAmountField, usage_number,
)
from cynco.permissions import PublishableAllowed, publishable_with_scope, require_secret
from cynco.responses import ok

# Far enough for any real expiry (year 5138); the server caps the time-to-live at 24 h anyway.
MAX_EXPIRES_AT_MS = 10**14


class StrictChoiceField(serializers.ChoiceField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class LockInput(serializers.Serializer):
    enabled = StrictBooleanField()
    lockId = StrictCharField(max_length=255, required=False)
    expiresAt = StrictIntegerField(min_value=0, max_value=MAX_EXPIRES_AT_MS, required=False)

    def validate(self, attrs):
        if attrs["enabled"] and "expiresAt" not in attrs:
            raise serializers.ValidationError({"expiresAt": "Required when the lock is enabled."})
        return attrs


class CheckInput(serializers.Serializer):
    customer = StrictCharField(max_length=255)
    feature = StrictCharField(max_length=100)
    sendEvent = StrictBooleanField(required=False, default=False)
    requiredBalance = UsageAmountField(required=False, positive=True, default=Decimal(1))
    entityId = StrictCharField(max_length=255, required=False, default="")
    lock = LockInput(required=False)


class TrackInput(serializers.Serializer):
    customer = StrictCharField(max_length=255)
    feature = StrictCharField(max_length=100)
    amount = UsageAmountField(required=False, default=Decimal(1))
    entityId = StrictCharField(max_length=255, required=False, default="")
    idempotencyKey = StrictCharField(max_length=255, required=False)
    metadata = StrictJSONObjectField(required=False, allow_null=True)

    def validate_amount(self, value):
        if value == 0:
            raise serializers.ValidationError("Must not be zero.")
        return value


class FinalizeInput(serializers.Serializer):
    lockId = StrictCharField(max_length=255)
    action = StrictChoiceField(choices=["confirm", "release"])
    overrideValue = UsageAmountField(required=False, min_value=Decimal(0))
    customer = StrictCharField(max_length=255, required=False)


def balance_fields(answer: usage.Answer) -> dict:
    """balance, limit, granted, usage, unlimited, overageAllowed of a check or track answer:
    null amounts for a boolean feature, and all but usage for an unlimited one."""
    standing = answer.standing
    if answer.is_boolean:
        return {"balance": None, "limit": None, "granted": None, "usage": None,
                "unlimited": False, "overageAllowed": False}
    limited = not standing.unlimited
    granted = usage_number(standing.granted) if limited else None
    return {
        "balance": usage_number(standing.left) if limited else None, "limit": granted,
        "granted": granted, "usage": usage_number(standing.usage),
        "unlimited": standing.unlimited, "overageAllowed": standing.overage_allowed,
    }


def check_data(answer: usage.Answer, lock: usage.LockRequest | None) -> dict:
    """The `data` of a check answer (CheckResult)."""
    data = {"allowed": answer.allowed, **balance_fields(answer)}
    if lock is not None:
        data["lockId"] = answer.lock_id
    return data


def track_data(answer: usage.Answer) -> dict:
    """The `data` of a track answer (TrackResult)."""
    fields = balance_fields(answer)
    return {
        "recorded": answer.recorded, "allowed": answer.allowed,
        "balance": fields["balance"], "limit": fields["limit"],
        "unlimited": fields["unlimited"], "duplicate": answer.duplicate,
        "spendCapExceeded": answer.spend_cap_exceeded,
    }


def parsed(serializer_class, request) -> dict:
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    return data.validated_data


class CheckView(ApiView):
    permission_classes = [PublishableAllowed]

    @openapi("check", summary="May the customer use a feature? (and deduct, or lock)",
             input=CheckInput, data=CheckResultShape, errors=(404,))
    def post(self, request):
        values = parsed(CheckInput, request)
        lock = values.get("lock")
        lock = usage.LockRequest(lock.get("lockId"), lock["expiresAt"]) if (
            lock and lock["enabled"]) else None
        if values["sendEvent"] or lock is not None:
            require_secret(request, "send events or lock balances")
        answer = usage.entitlement_check(
            scope=self.scope, customer=values["customer"], feature=values["feature"],
            required=values["requiredBalance"], send_event=values["sendEvent"],
            entity_key=values["entityId"], lock=lock,
        )
        metrics.usage_answered("check", "full", answer)
        return ok(check_data(answer, lock))


class TrackView(ApiView):
    permission_classes = [publishable_with_scope("track")]

    @openapi("track", summary="Record usage of a feature", input=TrackInput,
             data=TrackResultShape, errors=(404,))
    def post(self, request):
        values = parsed(TrackInput, request)
        answer = usage.usage_track(
            scope=self.scope, customer=values["customer"], feature=values["feature"],
            amount=values["amount"], entity_key=values["entityId"],
            idempotency_key=values.get("idempotencyKey"), metadata=values.get("metadata"),
        )
        metrics.usage_answered("track", "full", answer)
        return ok(track_data(answer))


class FinalizeView(ApiView):
    @openapi("balances_finalize", summary="Confirm or release a balance lock",
             input=FinalizeInput, data=FinalizeResultShape, errors=(404, 410))
    def post(self, request):
        values = parsed(FinalizeInput, request)
        result = balance_locks.lock_finalize(
            scope=self.scope, lock_key=values["lockId"], action=values["action"],
            override_value=values.get("overrideValue"), customer=values.get("customer"),
        )
        return ok({"success": result.success, "adjusted": usage_number(result.adjusted)})

"""Input of `/coupons` (create, update, validate), parsed strictly; wire names are camelCase."""

from __future__ import annotations

from django.core.validators import RegexValidator
from rest_framework import serializers

from billing.api.product_input import MAX_AMOUNT, amount_field
from billing.models import Coupon
from cynco.fields import StrictCharField, StrictIntegerField, StrictJSONObjectField

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
code_validator = RegexValidator(
    CODE_PATTERN, "Use letters, digits, '_' or '-' (starting with a letter or digit)."
)
MAX_TRIAL_EXTENSION_DAYS = 730
MAX_DURATION_MONTHS = 120
MAX_RESTRICTED_PRODUCTS = 100

# The most each type's value may be (percent, minor units, days).
VALUE_LIMITS = {"percentage": 100, "fixed": MAX_AMOUNT, "trial_extension": MAX_TRIAL_EXTENSION_DAYS}
IMMUTABLE_FIELDS = ("code", "type", "value", "duration", "durationMonths", "minimumAmount",
                    "productIds", "validFrom")


def code_field(**kwargs) -> StrictCharField:
    return StrictCharField(max_length=64, validators=[code_validator], **kwargs)


def count_field(**kwargs) -> StrictIntegerField:
    return StrictIntegerField(min_value=1, max_value=2**31 - 1, **kwargs)


class CouponCreateInput(serializers.Serializer):
    code = code_field()
    name = StrictCharField(max_length=200, required=False, allow_null=True, allow_blank=True)
    type = serializers.ChoiceField(choices=Coupon.Type.choices)
    value = StrictIntegerField(min_value=1, max_value=MAX_AMOUNT)
    duration = serializers.ChoiceField(choices=Coupon.Duration.choices)
    durationMonths = StrictIntegerField(
        min_value=1, max_value=MAX_DURATION_MONTHS, required=False, allow_null=True
    )
    maxRedemptions = count_field(required=False, allow_null=True)
    maxRedemptionsPerCustomer = count_field(required=False)
    minimumAmount = amount_field(required=False, allow_null=True)
    productIds = serializers.ListField(
        child=StrictCharField(max_length=100), required=False,
        max_length=MAX_RESTRICTED_PRODUCTS,
    )
    validFrom = serializers.DateTimeField(required=False, allow_null=True)
    validUntil = serializers.DateTimeField(required=False, allow_null=True)
    metadata = StrictJSONObjectField(required=False, allow_null=True)
    # `validate` below, for the OpenAPI document (validUntil after validFrom it cannot say).
    body_rules = (
        {"anyOf": [{"properties": {"duration": {"enum": ["repeating"]},
                                   "durationMonths": {"type": "integer"}},
                    "required": ["durationMonths"]},
                   {"properties": {"duration": {"enum": ["once", "forever"]},
                                   "durationMonths": {"enum": [None]}}}]},
        {"anyOf": [{"properties": {"type": {"enum": [kind]}, "value": {"maximum": limit}}}
                   for kind, limit in VALUE_LIMITS.items()]},
    )

    def validate(self, values):
        problems = {}
        limit = VALUE_LIMITS[values["type"]]
        if values["value"] > limit:
            problems["value"] = f"At most {limit} for a {values['type']} coupon."
        months = values.get("durationMonths")
        if values["duration"] == "repeating" and months is None:
            problems["durationMonths"] = "Required when duration is repeating."
        if values["duration"] != "repeating" and months is not None:
            problems["durationMonths"] = "Only for duration repeating."
        start, end = values.get("validFrom"), values.get("validUntil")
        if start is not None and end is not None and end <= start:
            problems["validUntil"] = "Must be after validFrom."
        if problems:
            raise serializers.ValidationError(problems)
        return values


class CouponUpdateInput(serializers.Serializer):
    name = StrictCharField(max_length=200, required=False, allow_null=True, allow_blank=True)
    status = serializers.ChoiceField(choices=Coupon.Status.choices, required=False)
    maxRedemptions = count_field(required=False, allow_null=True)
    maxRedemptionsPerCustomer = count_field(required=False)
    validUntil = serializers.DateTimeField(required=False, allow_null=True)
    metadata = StrictJSONObjectField(required=False, allow_null=True)

    def validate(self, values):
        frozen = [name for name in IMMUTABLE_FIELDS if name in self.initial_data]
        if frozen:
            raise serializers.ValidationError(
                {name: "Cannot be changed; create a new coupon instead." for name in frozen}
            )
        return values


class CouponValidateInput(serializers.Serializer):
    code = StrictCharField(max_length=255)
    customer = StrictCharField(max_length=255)
    product = StrictCharField(max_length=100)
    amount = amount_field()

"""Input of `POST /products` (CreateProductInput of API.md), parsed strictly.

Field names are the wire's. Besides API.md's fields, what older clients send is accepted:
`autoEnable` (alias of `isDefault`; both given and different is a 422), and the 0.1/0.2 tier
keys `to` ("inf" = no limit), `amount` and `tierBehavior`, mapped to `upTo`, `unitAmount` and
`tiersMode` before validating. Other unknown keys are ignored.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import RegexValidator
from rest_framework import serializers

from cynco.currencies import is_iso_currency
from billing.models import FeatureGrant, Price
from billing.pricing import Tier, validate_tiers
from cynco.fields import (
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictJSONObjectField,
    UsageAmountField,
)

MAX_AMOUNT = 10**15
SLUG_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"
slug_validator = RegexValidator(
    SLUG_PATTERN, "Use letters, digits, '_', '-', '.' or ':' (starting with a letter or digit)."
)


def slug_field(**kwargs) -> StrictCharField:
    return StrictCharField(max_length=100, validators=[slug_validator], **kwargs)


def amount_field(**kwargs) -> StrictIntegerField:
    return StrictIntegerField(min_value=0, max_value=MAX_AMOUNT, **kwargs)


class CurrencyField(StrictCharField):
    """An ISO 4217 code; lower case is accepted and stored upper case."""

    default_error_messages = {"currency": "Not an ISO 4217 currency code."}

    def to_internal_value(self, data):
        code = super().to_internal_value(data).upper()
        if not is_iso_currency(code):
            self.fail("currency")
        return code


def _renamed(data, renames: dict[str, str]):
    """`data` with legacy keys renamed to the current ones (when the current one is absent)."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    for old, new in renames.items():
        if old in data and new not in data:
            data[new] = data.pop(old)
    return data


class TierInput(serializers.Serializer):
    upTo = UsageAmountField(allow_null=True, positive=True)
    unitAmount = amount_field()
    flatAmount = amount_field(required=False, default=0)

    def to_internal_value(self, data):
        data = _renamed(data, {"to": "upTo", "amount": "unitAmount"})
        if isinstance(data, dict) and data.get("upTo") == "inf":
            data["upTo"] = None
        return super().to_internal_value(data)


class PriceInput(serializers.Serializer):
    name = StrictCharField(max_length=200, required=False, allow_null=True)
    type = serializers.ChoiceField(choices=Price.Type.choices)
    billingInterval = serializers.ChoiceField(
        choices=Price.Interval.choices, required=False, allow_null=True
    )
    billingIntervalCount = StrictIntegerField(min_value=1, max_value=100, required=False)
    amount = amount_field(required=False)
    currency = CurrencyField(required=False, default="MYR")
    trialDays = StrictIntegerField(min_value=0, max_value=730, required=False, default=0)
    trialRequiresCard = StrictBooleanField(required=False, default=False)
    setupFee = amount_field(required=False, default=0)
    tiersMode = serializers.ChoiceField(
        choices=Price.TiersMode.choices, required=False, allow_null=True
    )
    tiers = TierInput(many=True, required=False, allow_null=True)

    def to_internal_value(self, data):
        return super().to_internal_value(_renamed(data, {"tierBehavior": "tiersMode"}))

    def validate(self, values):
        errors = {}
        recurring = values["type"] == Price.Type.RECURRING
        if recurring:
            values["billingInterval"] = values.get("billingInterval") or Price.Interval.MONTH
            values["billingIntervalCount"] = values.get("billingIntervalCount", 1)
        else:
            for name in ("billingInterval", "billingIntervalCount"):
                if values.get(name) is not None:
                    errors[name] = "A one_time price has no billing interval."
            values["billingInterval"] = values["billingIntervalCount"] = None
            if values["trialDays"]:
                errors["trialDays"] = "A one_time price has no trial."
        mode, tiers = values.get("tiersMode"), values.get("tiers")
        if mode and not tiers:
            errors["tiers"] = "Required when tiersMode is given."
        elif tiers and not mode:
            errors["tiersMode"] = "Required when tiers are given."
        elif tiers:
            rows = [Tier(t["upTo"], t["unitAmount"], t["flatAmount"]) for t in tiers]
            errors.update(dict(validate_tiers(rows)))
        if "amount" not in values:
            if tiers:
                values["amount"] = 0
            else:
                errors["amount"] = "This field is required."
        if errors:
            raise serializers.ValidationError(errors)
        return values


class FeatureInput(serializers.Serializer):
    slug = slug_field()
    name = StrictCharField(max_length=200)
    type = serializers.ChoiceField(choices=["boolean", "metered", "credit_system"], required=False)
    allowanceType = serializers.ChoiceField(
        choices=FeatureGrant.AllowanceType.choices, required=False
    )
    allowance = UsageAmountField(required=False, allow_null=True, min_value=Decimal(0))
    overageAllowed = StrictBooleanField(required=False, default=False)
    overagePrice = amount_field(required=False, allow_null=True)
    resetInterval = serializers.ChoiceField(
        choices=FeatureGrant.ResetInterval.choices, required=False, allow_null=True
    )
    perEntity = StrictBooleanField(required=False, default=False)

    def validate(self, values):
        allowance = values.get("allowance")
        kind, allowance_type = values.get("type"), values.get("allowanceType")
        if allowance_type is None:
            if kind == "boolean":
                allowance_type = "boolean"
            elif allowance is not None:
                allowance_type = "fixed"
            else:
                raise serializers.ValidationError(
                    {"allowanceType": "Required unless type is boolean or an allowance is given."}
                )
        if kind is None:
            kind = "boolean" if allowance_type == "boolean" else "metered"
        errors = {}
        if (kind == "boolean") != (allowance_type == "boolean"):
            errors["allowanceType"] = (
                "A boolean feature takes allowanceType boolean, and only it does."
            )
        elif allowance_type == "fixed" and allowance is None:
            errors["allowance"] = "Required when allowanceType is fixed."
        elif allowance_type != "fixed" and allowance is not None:
            errors["allowance"] = f"Not allowed when allowanceType is {allowance_type}."
        if kind == "boolean":
            for name in ("overageAllowed", "perEntity"):
                if values.get(name):
                    errors[name] = "Not allowed for a boolean feature."
            if values.get("overagePrice") is not None or values.get("resetInterval"):
                errors.setdefault("type", "A boolean feature has no overage or reset interval.")
        if errors:
            raise serializers.ValidationError(errors)
        values.update(type=kind, allowanceType=allowance_type, allowance=allowance)
        return values


class ProductInput(serializers.Serializer):
    name = StrictCharField(max_length=200)
    slug = slug_field()
    description = StrictCharField(
        max_length=5000, required=False, allow_null=True, allow_blank=True, text=True
    )
    isDefault = StrictBooleanField(required=False)
    autoEnable = StrictBooleanField(required=False)
    isAddOn = StrictBooleanField(required=False, default=False)
    groupSlug = slug_field(required=False, allow_null=True)
    sortOrder = StrictIntegerField(
        min_value=-(2**31), max_value=2**31 - 1, required=False, default=0
    )
    metadata = StrictJSONObjectField(required=False)
    prices = PriceInput(many=True, required=False, default=list, max_length=20)
    features = FeatureInput(many=True, required=False, default=list, max_length=200)

    def validate(self, values):
        errors = {}
        is_default, auto_enable = values.get("isDefault"), values.pop("autoEnable", None)
        if is_default is not None and auto_enable is not None and is_default != auto_enable:
            errors["autoEnable"] = "Differs from isDefault (autoEnable is its alias)."
        values["isDefault"] = bool(is_default if is_default is not None else auto_enable)
        seen = set()
        for index, feature in enumerate(values["features"]):
            if feature["slug"] in seen:
                errors[f"features[{index}].slug"] = "Duplicate feature slug in this product."
            seen.add(feature["slug"])
        if values["isDefault"]:
            for index, price in enumerate(values["prices"]):
                if price["amount"] or price["setupFee"] or price.get("tiers"):
                    errors[f"prices[{index}].amount"] = (
                        "A default product is given free to every new customer: its prices "
                        "must be free (amount 0, no setup fee, no tiers)."
                    )
        if errors:
            raise serializers.ValidationError(errors)
        values["description"] = values.get("description") or None
        return values

"""Input serializers of /subscribe, /preview, /cancel and /subscriptions/update (strict types:
wrong JSON types are 422). Unknown keys are ignored (docs/client-wire-format.md §3.1)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from cynco.fields import (
    HttpUrlField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictJSONObjectField,
)
from cynco.ids import IDENTIFIER_PATTERN

MAX_QUANTITY = 100_000


class InlineCustomer(serializers.Serializer):
    id = StrictCharField(max_length=255)
    email = serializers.EmailField(max_length=254)
    name = StrictCharField(max_length=200)

    def validate_email(self, value):
        if not isinstance(self.initial_data.get("email"), str):
            raise serializers.ValidationError("Must be a string.")
        return value


CUSTOMER_ID = StrictCharField(max_length=255)


class CustomerRef(serializers.Field):
    """`customer`: the external id, or `{id, email, name}` to create the customer inline."""

    default_error_messages = {"invalid": "Must be a customer id or an object {{id, email, name}}."}

    def to_internal_value(self, data):
        if isinstance(data, str):
            return {"id": CUSTOMER_ID.run_validation(data)}
        if isinstance(data, dict):
            inline = InlineCustomer(data=data)
            inline.is_valid(raise_exception=True)
            return {**inline.validated_data, "inline": True}
        self.fail("invalid")


class CustomerRefSchema(OpenApiSerializerFieldExtension):
    """`customer` in the OpenAPI document: a string, or an InlineCustomer object."""

    target_class = CustomerRef

    def map_serializer_field(self, auto_schema, direction):
        inline = auto_schema.resolve_serializer(InlineCustomer, direction)
        return {"oneOf": [{"type": "string", "minLength": 1, "maxLength": 255,
                           "pattern": IDENTIFIER_PATTERN,
                           "description": "The customer's external id."}, inline.ref]}


class CarryOver(serializers.Serializer):
    enabled = StrictBooleanField()
    featureIds = serializers.ListField(child=StrictCharField(max_length=100), required=False,
                                       max_length=100)


class SubscribeInput(serializers.Serializer):
    customer = CustomerRef()
    product = StrictCharField(max_length=100)
    priceId = StrictCharField(max_length=40, required=False)
    successUrl = HttpUrlField(max_length=2000, required=False)
    cancelUrl = HttpUrlField(max_length=2000, required=False)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY, required=False, default=1)
    couponCode = StrictCharField(max_length=100, required=False)
    fingerprint = StrictCharField(max_length=255, required=False)
    billingAnchorDay = StrictIntegerField(min_value=1, max_value=28, required=False)
    metadata = StrictJSONObjectField(required=False, default=dict)
    carryOverBalances = CarryOver(required=False)
    carryOverUsages = CarryOver(required=False)
    redirectMode = serializers.ChoiceField(choices=["always", "if_required"], required=False)


class AttachProduct(serializers.Serializer):
    product = StrictCharField(max_length=100)
    priceId = StrictCharField(max_length=40, required=False)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY, required=False, default=1)


class MultiAttachInput(serializers.Serializer):
    customer = CustomerRef()
    products = serializers.ListField(child=AttachProduct(), min_length=1, max_length=20)
    successUrl = HttpUrlField(max_length=2000)
    cancelUrl = HttpUrlField(max_length=2000)
    couponCode = StrictCharField(max_length=100, required=False)
    metadata = StrictJSONObjectField(required=False, default=dict)


class PreviewInput(serializers.Serializer):
    customer = StrictCharField(max_length=255)
    product = StrictCharField(max_length=100)
    priceId = StrictCharField(max_length=40, required=False)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY, required=False, default=1)
    couponCode = StrictCharField(max_length=100, required=False)


class CancelInput(serializers.Serializer):
    customer = StrictCharField(max_length=255)
    product = StrictCharField(max_length=100, required=False)
    immediate = StrictBooleanField(required=False, default=False)
    reason = StrictCharField(max_length=500, required=False, allow_blank=True, text=True)


class StrictDateTimeField(serializers.DateTimeField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", format="ISO-8601")
        return super().to_internal_value(data)


class FeatureQuantity(serializers.Serializer):
    featureId = StrictCharField(max_length=100)
    quantity = StrictIntegerField(min_value=0, max_value=MAX_QUANTITY)


class UpdateInput(serializers.Serializer):
    customer = StrictCharField(max_length=255)
    product = StrictCharField(max_length=100)
    cancelAction = serializers.ChoiceField(
        choices=["cancel_end_of_cycle", "cancel_immediately", "uncancel"], required=False)
    pauseAction = serializers.ChoiceField(choices=["pause", "resume"], required=False)
    resumeAt = StrictDateTimeField(required=False)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY, required=False)
    featureQuantities = FeatureQuantity(many=True, required=False)
    prorationBehavior = serializers.ChoiceField(choices=["prorate", "none"], required=False,
                                                default="prorate")
    # billing.services.subscription_updates.validate_update, for the OpenAPI document.
    body_rules = (
        {"oneOf": [{"required": ["cancelAction"]}, {"required": ["pauseAction"]},
                   {"required": ["quantity"]}]},
        {"anyOf": [{"not": {"required": ["resumeAt"]}},
                   {"properties": {"pauseAction": {"enum": ["pause"]}}}]},
    )

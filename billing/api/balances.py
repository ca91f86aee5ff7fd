"""`/balances/create`, `/balances/update` and `/entities` (API.md, balances and entities)."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from billing.api.shapes.entitlements import BalanceShape, EntityShape
from billing.api.usage import StrictChoiceField, parsed
from billing.models import Balance, Entity
from billing.selectors.entitlements import customer_entities
from billing.services import entities, manual_balances
from billing.services.usage import standing_of
from cynco.api.schema import DELETED, PageOf, openapi, query_param
from cynco.api.views import ApiView
from cynco.errors import ValidationFailed
from cynco.fields import (
    StrictCharField, StrictJSONObjectField, UsageAmountField, usage_number,
)
from cynco.responses import ok, page_of, paginated


class BalanceCreateInput(serializers.Serializer):
    customer = StrictCharField(max_length=255)
    feature = StrictCharField(max_length=100)
    grantedBalance = UsageAmountField(min_value=Decimal(0))
    resetInterval = StrictChoiceField(choices=["month", "year", "one_off"], required=False,
                                      default="one_off")


class BalanceUpdateInput(serializers.Serializer):
    customer = StrictCharField(max_length=255)
    feature = StrictCharField(max_length=100)
    usage = UsageAmountField(required=False, min_value=Decimal(0))
    balance = UsageAmountField(required=False)

    body_rules = ({"oneOf": [{"required": ["usage"]}, {"required": ["balance"]}]},)

    def validate(self, attrs):
        if ("usage" in attrs) == ("balance" in attrs):
            raise serializers.ValidationError("Give exactly one of usage and balance.")
        return attrs


class EntityInput(serializers.Serializer):
    customer = StrictCharField(max_length=255)
    entityId = StrictCharField(max_length=255)
    featureId = StrictCharField(max_length=100)
    name = StrictCharField(max_length=200, required=False, allow_null=True)
    metadata = StrictJSONObjectField(required=False, allow_null=True)


class EntityDeleteInput(serializers.Serializer):
    customer = StrictCharField(max_length=255)
    entityId = StrictCharField(max_length=255)


def balance_output(balance: Balance) -> dict:
    standing = standing_of(balance)
    limited = not standing.unlimited
    granted = usage_number(standing.granted) if limited else None
    return {
        "id": balance.id, "customerId": balance.customer_id, "featureId": balance.feature.slug,
        "balance": usage_number(standing.left) if limited else None, "granted": granted,
        "usage": usage_number(standing.usage), "limit": granted,
        "unlimited": standing.unlimited, "resetInterval": balance.reset_interval or "one_off",
        "periodStart": balance.period_start, "periodEnd": balance.period_end,
    }


def entity_output(entity: Entity) -> dict:
    return {
        "id": entity.id, "customerId": entity.customer_id, "entityId": entity.entity_key,
        "featureId": entity.feature.slug, "name": entity.name, "metadata": entity.metadata,
        "createdAt": entity.created_at,
    }


class BalanceCreateView(ApiView):
    @openapi("balance_create", summary="Grant a customer a balance of a feature",
             input=BalanceCreateInput, data=BalanceShape, errors=(404,))
    def post(self, request):
        values = parsed(BalanceCreateInput, request)
        balance = manual_balances.balance_grant_create(
            scope=self.scope, customer=values["customer"], feature=values["feature"],
            granted=values["grantedBalance"], reset_interval=values["resetInterval"],
        )
        return ok(balance_output(balance))


class BalanceUpdateView(ApiView):
    @openapi("balance_update", summary="Set a balance's usage or what is left of it",
             input=BalanceUpdateInput, data=BalanceShape, errors=(404,))
    def post(self, request):
        values = parsed(BalanceUpdateInput, request)
        balance = manual_balances.balance_set(
            scope=self.scope, customer=values["customer"], feature=values["feature"],
            usage=values.get("usage"), balance=values.get("balance"),
        )
        return ok(balance_output(balance))


class EntitiesView(ApiView):
    @openapi("entities_list", summary="A customer's entities",
             query=[query_param("customer", "The customer's external id.", required=True)],
             data=PageOf(EntityShape), errors=(404,))
    def get(self, request):
        customer = request.query_params.get("customer")
        if not customer:
            raise ValidationFailed.field("customer", "This query parameter is required.")
        page = page_of(request)
        rows = customer_entities(self.scope, customer)
        return paginated([entity_output(e) for e in page.slice(rows)], total=rows.count(),
                         page=page)

    @openapi("entity_create", summary="Create an entity (counts one unit of its feature)",
             description="402 LIMIT_EXCEEDED when no unit is left and overage is not allowed.",
             input=EntityInput, data=EntityShape, status=201, errors=(402, 404))
    def post(self, request):
        values = parsed(EntityInput, request)
        entity = entities.entity_create(
            scope=self.scope, customer=values["customer"], entity_key=values["entityId"],
            feature=values["featureId"], name=values.get("name"),
            metadata=values.get("metadata"),
        )
        return ok(entity_output(entity), status=201)

    @openapi("entity_delete", summary="Delete an entity (gives its unit back)",
             description="The entity is named in the JSON body, as the client sends it.",
             input=EntityDeleteInput, data=DELETED, errors=(404,))
    def delete(self, request):
        values = parsed(EntityDeleteInput, request)
        entities.entity_delete(scope=self.scope, customer=values["customer"],
                               entity_key=values["entityId"])
        return ok({"deleted": True})

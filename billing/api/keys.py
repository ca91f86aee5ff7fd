"""`/api-keys`: create (raw key shown once), list (masked), revoke; each change is audited.

A key lists and revokes the keys of its own environment. A live secret key may also create test
keys (`environment: "test"`); a test key may never create live ones, since test keys tend to be
spread more widely.
"""

from __future__ import annotations

from rest_framework import serializers

from billing.api.actors import actor_of
from billing.api.query import required_query_param
from billing.api.shapes.account import ApiKeyShape, NewApiKeyShape, RevokedShape
from billing.services.api_keys import api_key_issue, api_key_withdraw
from cynco.api.schema import ListOf, openapi, query_param
from cynco.api.views import ApiView
from cynco.errors import Forbidden
from cynco.fields import StrictCharField
from cynco.models import ApiKey, Environment
from cynco.responses import ok
from cynco.tenancy import Scope


class ApiKeyCreateInput(serializers.Serializer):
    name = StrictCharField(max_length=200)
    type = serializers.ChoiceField(choices=ApiKey.Type.choices)
    environment = serializers.ChoiceField(choices=Environment.choices, required=False)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=ApiKey.PUBLISHABLE_SCOPES), required=False
    )


def api_key_data(key: ApiKey) -> dict:
    return {
        "id": key.id,
        "name": key.name,
        "type": key.type,
        "keyPrefix": key.key_prefix,
        "environment": key.environment,
        "scopes": key.scopes,
        "lastUsedAt": key.last_used_at,
        "createdAt": key.created_at,
        "status": key.status,
    }


def creatable_environments(caller: ApiKey) -> list[str]:
    if caller.environment == Environment.LIVE:
        return [Environment.LIVE, Environment.TEST]
    return [Environment.TEST]


class ApiKeysView(ApiView):
    idempotency_redacted_fields = ("rawKey",)

    @openapi("api_key_create", summary="Create an API key (its raw key shown once)",
             description="A live secret key may create test keys; a test key may not create "
                         "live ones (403). Publishable keys may carry the `track` and `portal` "
                         "scopes.",
             input=ApiKeyCreateInput, data=NewApiKeyShape, status=201)
    def post(self, request):
        data = ApiKeyCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        environment = values.get("environment", request.auth.environment)
        if environment not in creatable_environments(request.auth):
            raise Forbidden("A test key cannot create live keys")
        key, raw = api_key_issue(
            scope=self.scope,
            key_scope=Scope(request.auth.merchant_id, environment),
            name=values["name"],
            key_type=values["type"],
            scopes=values.get("scopes"),
            actor=actor_of(request),
        )
        return ok({**api_key_data(key), "rawKey": raw}, status=201)

    @openapi("api_keys_list", summary="The keys of this environment",
             data=ListOf(ApiKeyShape))
    def get(self, request):
        keys = ApiKey.objects.for_scope(self.scope)
        return ok([api_key_data(key) for key in keys])

    @openapi("api_key_revoke", summary="Revoke a key (it stops working at once)",
             query=[query_param("id", "The key's id (`pak_…`).", required=True)],
             data=RevokedShape, errors=(404,))
    def delete(self, request):
        key_id = required_query_param(request, "id")
        api_key_withdraw(scope=self.scope, key_id=key_id, actor=actor_of(request))
        return ok({"revoked": True})

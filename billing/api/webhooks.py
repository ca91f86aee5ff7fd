"""`/webhooks`: register an endpoint (its secret shown once), list, delete."""

from __future__ import annotations

from rest_framework import serializers

from billing.api.actors import actor_of
from billing.api.query import required_query_param
from billing.api.shapes.account import NewWebhookEndpointShape, WebhookEndpointShape
from billing.models import WebhookEndpoint
from billing.models.webhooks import EVENT_TYPES, URL_MAX_LENGTH
from billing.selectors.webhooks import webhook_endpoints
from billing.services.webhooks import webhook_endpoint_create, webhook_endpoint_delete
from cynco.api.schema import DELETED, PageOf, openapi, query_param
from cynco.api.views import ApiView
from cynco.fields import HttpUrlField
from cynco.responses import ok, page_of, paginated


class WebhookEndpointInput(serializers.Serializer):
    url = HttpUrlField(max_length=URL_MAX_LENGTH)
    # Types are checked here, names against API.md's list by the service (422 on `events[i]`).
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES),
        required=False,
        allow_null=True,
        min_length=1,
        max_length=100,
    )


def webhook_endpoint_data(endpoint: WebhookEndpoint) -> dict:
    """An endpoint on the wire; `events: null` means every event type. Never the secret."""
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": endpoint.events,
        "status": endpoint.status,
    }


class WebhooksView(ApiView):
    # A replayed create answers the same endpoint with `secret: null`: the secret is not stored
    # with the idempotency record.
    idempotency_redacted_fields = ("secret",)

    @openapi("webhook_create", summary="Register a webhook endpoint (its secret shown once)",
             description="Without `events` (or with null) it receives every event type.",
             input=WebhookEndpointInput, data=NewWebhookEndpointShape, status=201)
    def post(self, request):
        data = WebhookEndpointInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = webhook_endpoint_create(
            scope=self.scope,
            url=data.validated_data["url"],
            events=data.validated_data.get("events"),
            actor=actor_of(request),
        )
        return ok({**webhook_endpoint_data(endpoint), "secret": endpoint.secret}, status=201)

    @openapi("webhooks_list", summary="Webhook endpoints (secrets left out)",
             data=PageOf(WebhookEndpointShape))
    def get(self, request):
        page = page_of(request)
        endpoints = webhook_endpoints(scope=self.scope)
        items = [webhook_endpoint_data(endpoint) for endpoint in page.slice(endpoints)]
        return paginated(items, total=endpoints.count(), page=page)

    @openapi("webhook_delete", summary="Delete a webhook endpoint",
             query=[query_param("id", "The endpoint's id (`pwh_…`).", required=True)],
             data=DELETED, errors=(404,))
    def delete(self, request):
        endpoint_id = required_query_param(request, "id")
        webhook_endpoint_delete(scope=self.scope, endpoint_id=endpoint_id, actor=actor_of(request))
        return ok({"deleted": True})

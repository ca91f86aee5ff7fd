"""Webhook endpoints, API keys, the audit trail, analytics and the portal link (API.md,
Webhooks, …, keys, rewards, audit; Billing, events, analytics)."""

from __future__ import annotations

from rest_framework import serializers as s

from billing.models import AuditEvent, WebhookEndpoint
from cynco.models import ApiKey, Environment


class WebhookEndpointShape(s.Serializer):
    """`events: null` means every event type."""

    id = s.CharField()
    url = s.CharField()
    events = s.ListField(child=s.CharField(), allow_null=True)
    status = s.ChoiceField(choices=WebhookEndpoint.Status.choices)


class NewWebhookEndpointShape(WebhookEndpointShape):
    """The new endpoint with its signing secret, shown only here (null on an idempotent
    replay)."""

    secret = s.CharField(allow_null=True)


class ApiKeyShape(s.Serializer):
    id = s.CharField()
    name = s.CharField()
    type = s.ChoiceField(choices=ApiKey.Type.choices)
    keyPrefix = s.CharField()
    environment = s.ChoiceField(choices=Environment.choices)
    scopes = s.ListField(child=s.CharField())
    lastUsedAt = s.DateTimeField(allow_null=True)
    createdAt = s.DateTimeField()
    status = s.ChoiceField(choices=["active", "revoked"])


class NewApiKeyShape(ApiKeyShape):
    """The new key with `rawKey`, shown only here (null on an idempotent replay)."""

    rawKey = s.CharField(allow_null=True)


class RevokedShape(s.Serializer):
    revoked = s.BooleanField()


class AuditEventShape(s.Serializer):
    id = s.CharField()
    event = s.CharField()
    actorType = s.ChoiceField(choices=AuditEvent.ActorType.choices)
    actorKeyId = s.CharField(allow_null=True)
    customerMapId = s.CharField(allow_null=True, help_text="The customer's id (`pcm_…`).")
    subscriptionId = s.CharField(allow_null=True)
    resourceType = s.CharField(allow_null=True)
    resourceId = s.CharField(allow_null=True)
    details = s.DictField()
    createdAt = s.DateTimeField()


class AnalyticsShape(s.Serializer):
    """Money in minor units of `currency`; rates in percent (2.5 means 2.5%)."""

    mrr = s.IntegerField()
    arr = s.IntegerField()
    activeSubscriptions = s.IntegerField()
    arpu = s.IntegerField()
    churnRate = s.FloatField()
    trialConversionRate = s.FloatField()
    currency = s.CharField()


class RevenueMonthShape(s.Serializer):
    month = s.CharField(help_text="YYYY-MM")
    revenue = s.IntegerField()
    newSubscriptions = s.IntegerField()
    churned = s.IntegerField()


class PortalLinkShape(s.Serializer):
    url = s.URLField(help_text="Signed; valid for one hour.")

"""Reads of outgoing-webhook records."""

from __future__ import annotations

from django.db.models import QuerySet

from billing.models import WebhookEndpoint
from cynco.tenancy import Scope


def webhook_endpoints(*, scope: Scope) -> QuerySet[WebhookEndpoint]:
    """The endpoints of `scope` that are not deleted, newest first."""
    return WebhookEndpoint.objects.for_scope(scope).exclude(status=WebhookEndpoint.Status.DELETED)

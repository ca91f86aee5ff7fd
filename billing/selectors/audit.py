"""Reads of the audit trail."""

from __future__ import annotations

from django.db.models import QuerySet

from billing.models import AuditEvent
from cynco.tenancy import Scope


def audit_events(
    *,
    scope: Scope,
    subscription_id: str | None = None,
    customer_id: str | None = None,
    event: str | None = None,
) -> QuerySet[AuditEvent]:
    """Audit rows of `scope`, newest first, narrowed by whichever filters are given."""
    rows = AuditEvent.objects.for_scope(scope)
    if subscription_id:
        rows = rows.filter(subscription_id=subscription_id)
    if customer_id:
        rows = rows.filter(customer_id=customer_id)
    if event:
        rows = rows.filter(event=event)
    return rows.order_by("-created_at", "-id")

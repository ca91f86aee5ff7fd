"""`GET /audit`: the merchant's audit trail, newest first, filtered and paginated."""

from __future__ import annotations

from billing.api.shapes.account import AuditEventShape
from billing.models import AuditEvent
from billing.selectors.audit import audit_events
from cynco.api.schema import PageOf, openapi, query_param
from cynco.api.views import ApiView
from cynco.responses import page_of, paginated


def audit_event_data(row: AuditEvent) -> dict:
    """An audit row on the wire (`customerMapId` is the customer's id, `pcm_…`)."""
    return {
        "id": row.id,
        "event": row.event,
        "actorType": row.actor_type,
        "actorKeyId": row.actor_key_id,
        "customerMapId": row.customer_id,
        "subscriptionId": row.subscription_id,
        "resourceType": row.resource_type,
        "resourceId": row.resource_id,
        "details": row.details,
        "createdAt": row.created_at,
    }


class AuditView(ApiView):
    # An empty filter means "no filter" (docs/audit.md).
    empty_query_allowed = ("subscription", "customer_map_id", "event")

    @openapi("audit_list", summary="The audit trail, newest first",
             query=[query_param("subscription", "Only this subscription's (`psub_…`); empty: "
                                "all.", allow_empty=True),
                    query_param("customer_map_id", "Only this customer's (`pcm_…`); empty: "
                                "all.", allow_empty=True),
                    query_param("event", "Only this event, e.g. subscription.created; empty: "
                                "all.", allow_empty=True)],
             data=PageOf(AuditEventShape))
    def get(self, request):
        page = page_of(request)
        params = request.query_params
        rows = audit_events(
            scope=self.scope,
            subscription_id=params.get("subscription"),
            customer_id=params.get("customer_map_id"),
            event=params.get("event"),
        )
        items = [audit_event_data(row) for row in page.slice(rows)]
        return paginated(items, total=rows.count(), page=page)

"""What the console's dashboard lists as needing attention, and the monthly count of active
subscriptions its chart draws. Read-only; each list is one query, newest first, capped."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Max, Q

from billing.models import Customer, Subscription, WebhookDelivery, WebhookEndpoint
from billing.selectors.analytics import LIVE_STATUSES, month_ends
from cynco.tenancy import Scope
from gateways.models import PaymentAttempt

ROWS = 10


def failed_payments(*, scope: Scope) -> list[dict]:
    """The latest charges the gateway refused, with the customer they were for. (Attempts are
    stamped with wall time, not the scope's business time, so this is "latest", not a window
    of the test clock.)"""
    attempts = list(
        PaymentAttempt.objects.for_scope(scope)
        .filter(kind=PaymentAttempt.Kind.CHARGE, status=PaymentAttempt.Status.FAILED)
        .order_by("-created_at")[:ROWS]
    )
    references = {attempt.customer_reference for attempt in attempts}
    customers = {}
    for row in Customer.objects.for_scope(scope).filter(
            Q(id__in=references) | Q(external_id__in=references)):
        customers[row.id] = customers[row.external_id] = row
    return [{"attempt": attempt, "customer": customers.get(attempt.customer_reference)}
            for attempt in attempts]


def past_due_subscriptions(*, scope: Scope) -> list[Subscription]:
    return list(
        Subscription.objects.for_scope(scope).filter(status=Subscription.Status.PAST_DUE)
        .select_related("customer", "product", "price").order_by("current_period_end")[:ROWS]
    )


def failing_webhook_endpoints(*, scope: Scope) -> list[dict]:
    """Active endpoints with deliveries that failed for good, or that are being retried after
    an error answer: how many, and the last answer."""
    failing = Q(status=WebhookDelivery.Status.FAILED) | Q(
        status=WebhookDelivery.Status.PENDING, attempt_count__gt=0)
    rows = (
        WebhookDelivery.objects.for_scope(scope).filter(failing)
        .filter(endpoint__status=WebhookEndpoint.Status.ACTIVE)
        .values("endpoint_id", "endpoint__url")
        .annotate(failing=Count("id"), last_code=Max("last_response_code"))
        .order_by("-failing")[:ROWS]
    )
    return list(rows)


def active_subscriptions_history(*, scope: Scope, at: datetime, months: int) -> list[dict]:
    """Subscriptions in a live status at the end of each of the last `months` months (the
    current one: at `at`), counted as analytics counts activeSubscriptions; earlier months from
    created/canceled dates (past pauses are not recorded per day)."""
    rows = []
    subscriptions = list(Subscription.objects.for_scope(scope)
                         .exclude(status=Subscription.Status.CHECKOUT)
                         .values("created_at", "canceled_at", "status"))
    for month, end in month_ends(at, months):
        rows.append({"month": month, "active": sum(
            1 for s in subscriptions
            if s["created_at"] < end and (s["canceled_at"] is None or s["canceled_at"] >= end)
            and (end != at or s["status"] in LIVE_STATUSES))})
    return rows

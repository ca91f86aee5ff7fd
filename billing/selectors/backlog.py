"""Work that is due and not yet done, over every merchant: the lag of billing's background jobs,
as figures for `/metrics` (METRICS_FIGURE_SOURCES, docs/operations.md).

- renewals due but not run: subscriptions whose period-end event (renewal, trial end, dunning
  retry, end of pause) is due by their environment's clock, and how late the oldest is;
- outgoing webhook deliveries not yet delivered, and the age of the oldest.

Reads only, across tenants (operator figures, never shown to a merchant).
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import (
    BigIntegerField,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Now

from billing.models import Subscription, WebhookDelivery
from billing.services.renewals import due_filter, due_moment
from cynco.clock import wall_now
from cynco.metrics_endpoint import Figure
from cynco.models import EnvironmentClock

ENVIRONMENTS = ("live", "test")


def _clock_now():
    """Each row's business now: the wall clock plus its environment's test-clock offset."""
    offset = Subquery(EnvironmentClock.objects.filter(
        merchant_id=OuterRef("merchant_id"), environment=OuterRef("environment"),
    ).values("offset_seconds")[:1], output_field=BigIntegerField())
    seconds = ExpressionWrapper(Coalesce(offset, Value(0)) * Value(timedelta(seconds=1)),
                                output_field=DurationField())
    return ExpressionWrapper(Now() + seconds, output_field=DateTimeField())


def renewals_due() -> dict[str, tuple[int, float]]:
    """environment → (subscriptions with a period-end event due, seconds the oldest is late)."""
    rows = (
        Subscription.objects.annotate(clock_now=_clock_now(), due_at=due_moment())
        .filter(due_filter(F("clock_now")))
        .annotate(late=ExpressionWrapper(F("clock_now") - F("due_at"),
                                         output_field=DurationField()))
        .values("environment")
        .annotate(count=Count("id"), oldest=Max("late"))
        .order_by()
    )
    return {row["environment"]: (row["count"], row["oldest"].total_seconds()) for row in rows}


def undelivered_webhooks() -> dict[str, tuple[int, float]]:
    """environment → (deliveries still pending, age in seconds of the oldest)."""
    now = wall_now()
    rows = (
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
        .values("environment").annotate(count=Count("id"), oldest=Min("created_at")).order_by()
    )
    return {row["environment"]: (row["count"], (now - row["oldest"]).total_seconds())
            for row in rows}


def backlog_figures() -> list[Figure]:
    renewals, webhooks = renewals_due(), undelivered_webhooks()
    figures = []
    for environment in ENVIRONMENTS:
        labels = {"environment": environment}
        due, late = renewals.get(environment, (0, 0.0))
        pending, age = webhooks.get(environment, (0, 0.0))
        figures += [
            Figure("cynco_renewals_due", "Subscriptions whose period-end event is due and not "
                   "yet run (by their environment's clock).", due, labels),
            Figure("cynco_renewals_due_oldest_seconds", "How late the oldest due period-end "
                   "event is, in seconds (0 when none is due).", max(late, 0.0), labels),
            Figure("cynco_webhook_deliveries_pending", "Outgoing webhook deliveries not yet "
                   "delivered (first try or retries).", pending, labels),
            Figure("cynco_webhook_oldest_undelivered_seconds", "Age of the oldest outgoing "
                   "webhook delivery not yet delivered (0 when none).", max(age, 0.0), labels),
        ]
    return figures

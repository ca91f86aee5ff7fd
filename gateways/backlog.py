"""Payment attempts left pending, as figures for `/metrics` (METRICS_FIGURE_SOURCES,
docs/operations.md): an attempt still pending well past GATEWAY_RECOVERY_AFTER_SECONDS means
the recovery sweeper is not running or cannot reach its gateway."""

from __future__ import annotations

from django.db.models import Count, Min

from cynco.clock import wall_now
from cynco.metrics_endpoint import Figure
from gateways.models import PaymentAttempt


def pending_attempt_figures() -> list[Figure]:
    now = wall_now()
    rows = (PaymentAttempt.objects.filter(status=PaymentAttempt.Status.PENDING)
            .values("gateway").annotate(count=Count("id"), oldest=Min("created_at")).order_by())
    figures = []
    for row in rows:
        labels = {"gateway": row["gateway"] or "unknown"}
        figures += [
            Figure("cynco_payment_attempts_pending", "Payment attempts not yet settled.",
                   row["count"], labels),
            Figure("cynco_payment_attempt_oldest_pending_seconds",
                   "Age of the oldest payment attempt not yet settled.",
                   (now - row["oldest"]).total_seconds(), labels),
        ]
    return figures

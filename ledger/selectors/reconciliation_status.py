"""The last reconciliation of the books, as figures for `/metrics` (METRICS_FIGURE_SOURCES,
docs/operations.md): when it ran and how many differences it found, by check."""

from __future__ import annotations

from collections import Counter

from cynco.metrics_endpoint import Figure
from ledger.models import ReconciliationRun


def reconciliation_figures() -> list[Figure]:
    run = ReconciliationRun.objects.order_by("-started_at").first()
    if run is None:
        return []
    by_check = Counter(row.get("check", "unknown") for row in run.rows if not row.get("ok"))
    figures = [
        Figure("cynco_reconciliation_last_run_timestamp_seconds",
               "Unix time the last reconciliation of the books finished.",
               run.finished_at.timestamp()),
        Figure("cynco_reconciliation_differences",
               "Differences the last reconciliation found (0: the books agree).",
               run.differences),
    ]
    figures += [
        Figure("cynco_reconciliation_differences_by_check",
               "Differences the last reconciliation found, by kind of check.", count,
               {"check": check})
        for check, count in sorted(by_check.items())
    ]
    return figures

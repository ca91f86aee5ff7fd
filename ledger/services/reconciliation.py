"""Running reconciliation and keeping a record of each run."""

from __future__ import annotations

from cynco.clock import wall_now
from cynco.models import Environment, Merchant
from cynco.tenancy import Scope
from ledger.models import ReconciliationRun
from ledger.reconciliation import Findings, reconcile


def scopes_to_reconcile(
    *, merchant_id: str | None = None, environment: str | None = None
) -> list[Scope]:
    """Every merchant environment, or those of one merchant and/or one environment."""
    merchants = Merchant.objects.order_by("created_at", "id")
    if merchant_id:
        merchants = merchants.filter(pk=merchant_id)
    environments = [environment] if environment else [Environment.LIVE, Environment.TEST]
    return [Scope(m, env) for m in merchants.values_list("id", flat=True) for env in environments]


def reconciliation_run(
    *, merchant_id: str | None = None, environment: str | None = None
) -> tuple[ReconciliationRun, Findings]:
    """Reconcile the books (all merchants by default) and record the run with every check.

    Reads only, then writes one ReconciliationRun row; takes no customer lock, posts no entry.
    """
    started = wall_now()
    findings = reconcile(scopes_to_reconcile(merchant_id=merchant_id, environment=environment))
    run = ReconciliationRun.objects.create(
        started_at=started,
        finished_at=wall_now(),
        ok=findings.ok,
        checks=len(findings.checks),
        differences=len(findings.differences),
        rows=[check.as_row() for check in findings.checks],
    )
    return run, findings

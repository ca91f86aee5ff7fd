"""Periodic ledger jobs."""

from celery import shared_task

from ledger.services.reconciliation import reconciliation_run


@shared_task
def reconcile_ledger_daily() -> str:
    """Reconcile every merchant's books and record the run (ReconciliationRun); returns its id."""
    run, _ = reconciliation_run()
    return run.pk

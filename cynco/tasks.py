"""Periodic platform jobs."""

from celery import shared_task

from cynco import idempotency


@shared_task
def purge_idempotency_records() -> int:
    """Forget idempotency answers past their retention (IDEMPOTENCY_RETENTION_HOURS)."""
    return idempotency.purge_expired()

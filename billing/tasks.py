"""Billing's Celery tasks: each takes ids and calls one service (STYLE.md)."""

from celery import shared_task

from billing.services.balance_locks import balance_locks_release_expired
from billing.services.webhook_deliveries import webhook_deliveries_run_due


@shared_task
def deliver_event_webhooks(event_id: str) -> int:
    """Deliver one event right after it was emitted (queued on commit by `emit_event`)."""
    return webhook_deliveries_run_due(event_id=event_id)


@shared_task
def deliver_due_webhooks() -> int:
    """Every minute (beat): first tries the queue missed, and every retry that has come due."""
    return webhook_deliveries_run_due()


@shared_task
def release_expired_balance_locks() -> int:
    """Every 15 s (beat): give back reservations whose lock expired without a finalize."""
    return balance_locks_release_expired()

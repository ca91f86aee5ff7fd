"""Periodic billing jobs. Tasks take ids (or nothing) and call a service (STYLE.md)."""

from celery import shared_task

from billing.services.balance_locks import balance_locks_release_expired


@shared_task
def release_expired_balance_locks() -> int:
    """Give back reservations whose lock expired without a finalize (API.md, check with lock)."""
    return balance_locks_release_expired()

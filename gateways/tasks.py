"""Celery tasks of the gateways app: they take ids and call a service."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from gateways.services import recovery, webhooks


@shared_task
def process_webhook_event(webhook_event_id: str) -> bool:
    return webhooks.webhook_process(webhook_event_id=webhook_event_id)


@shared_task
def recover_pending_payment_attempts() -> dict:
    """Beat job (every minute): settle attempts a crash left pending; retry lost webhook tasks."""
    after = timedelta(seconds=settings.GATEWAY_RECOVERY_AFTER_SECONDS)
    report = recovery.recover_pending_attempts(older_than=after)
    retried = 0
    for event_id in webhooks.unprocessed_webhook_events(older_than=after):
        try:
            retried += webhooks.webhook_process(webhook_event_id=event_id)
        except Exception:  # recorded on the event; the next sweep tries again
            pass
    return {"checked": report.checked, "settled": report.settled,
            "stillPending": report.still_pending, "webhooksRetried": retried}

"""The Celery app and its beat schedule. Tasks take ids and call a service (STYLE.md)."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cynco.settings")

app = Celery("cynco")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Each app adds its periodic jobs here as they land; every job is idempotent and safe to run
# on several workers at once (SKIP LOCKED batches, unique constraints).
app.conf.beat_schedule = {
    "purge-idempotency-records": {
        "task": "cynco.tasks.purge_idempotency_records",
        "schedule": crontab(minute=17),
    },
    "deliver-due-webhooks": {
        "task": "billing.tasks.deliver_due_webhooks",
        "schedule": crontab(),  # every minute
    },
    "deliver-due-emails": {
        "task": "billing.tasks.deliver_due_emails",
        "schedule": crontab(),  # every minute
    },
    "reconcile-ledger": {
        "task": "ledger.tasks.reconcile_ledger_daily",
        "schedule": crontab(hour=2, minute=40),
    },
    "run-period-end-jobs": {
        "task": "billing.tasks.run_period_end_jobs",
        "schedule": crontab(),  # every minute
    },
    "resume-pending-refunds": {
        "task": "billing.tasks.resume_pending_refunds",
        "schedule": crontab(),  # every minute
    },
    "recover-pending-payment-attempts": {
        "task": "gateways.tasks.recover_pending_payment_attempts",
        "schedule": crontab(),  # every minute
    },
    "expire-checkouts": {
        "task": "billing.tasks.expire_checkouts",
        "schedule": crontab(minute="*/5"),
    },
    "release-expired-balance-locks": {
        "task": "billing.tasks.release_expired_balance_locks",
        "schedule": 15.0,
    },
}

"""Billing's Celery tasks: each takes ids and calls one service (STYLE.md)."""

from celery import shared_task

from billing.models import Checkout, Subscription
from billing.services.balance_locks import balance_locks_release_expired
from billing.services.checkout_expiry import EXPIRABLE, checkouts_expire
from billing.services.refunds import refunds_resume
from billing.services.renewals import run_due
from billing.services.unapplied_payments import unapplied_refunds_resume
from billing.services.webhook_deliveries import webhook_deliveries_run_due
from cynco import clock
from cynco.tenancy import Scope

WORKING = ("trialing", "active", "past_due", "paused")


@shared_task
def deliver_event_webhooks(event_id: str) -> int:
    """Deliver one event right after it was emitted (queued on commit by `emit_event`)."""
    return webhook_deliveries_run_due(event_id=event_id)


@shared_task
def deliver_due_webhooks() -> int:
    """Every minute (beat): first tries the queue missed, and every retry that has come due."""
    return webhook_deliveries_run_due()


@shared_task
def resume_pending_refunds() -> int:
    """Every minute (beat): refunds a crash left pending before they reached the gateway (of
    invoices, and of unapplied payments)."""
    return refunds_resume() + unapplied_refunds_resume()


@shared_task
def run_period_end_jobs() -> int:
    """Every minute (beat): for each merchant environment with working subscriptions, the
    period-end jobs due by its own clock (a test clock runs ahead of the wall clock)."""
    scopes = (Subscription.objects.filter(status__in=WORKING)
              .values_list("merchant_id", "environment").distinct())
    total = 0
    for merchant_id, environment in scopes:
        scope = Scope(merchant_id, environment)
        total += sum(run_due(scope=scope, at=clock.now(scope)).values())
    return total


@shared_task
def release_expired_balance_locks() -> int:
    """Every 15 s (beat): give back reservations whose lock expired without a finalize."""
    return balance_locks_release_expired()


@shared_task
def expire_checkouts() -> int:
    """Every 5 minutes (beat): cancel checkouts left unfinished for CHECKOUT_EXPIRY_HOURS, each
    merchant environment at its own clock, giving back their coupon redemptions."""
    scopes = (Checkout.objects.filter(status__in=EXPIRABLE)
              .values_list("merchant_id", "environment").distinct())
    total = 0
    for merchant_id, environment in scopes:
        scope = Scope(merchant_id, environment)
        total += checkouts_expire(scope=scope, at=clock.now(scope))
    return total

"""Queueing billing emails: one outbox row per (cause, kind), in the cause's transaction.

Two kinds of cause:
- an outgoing event (`emails_queue_for_events`, called by `billing.services.webhooks.emit_events`,
  the one place every service announces a change): a payment succeeded (receipt), failed
  (payment failed, or action required when the charge waits for 3-D Secure), a subscription
  was canceled, a refund was issued;
- a date coming near on the environment's clock (`email_notices_queue`, run with the other
  period jobs by the beat job and by the test clock's advance): a trial ending in N days, a
  yearly plan renewing in N days.

A row is written only when the merchant sends that kind, the customer has an email address,
and, for the test environment, the merchant asked for test emails. The unique constraint on
(merchant, environment, source, kind) makes a second row for the same cause impossible.
Delivery is `billing.services.email_delivery`, queued on commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from django.db import transaction

from billing.models import (
    Customer,
    EmailKind,
    EmailMessage,
    EmailSettings,
    Subscription,
)
from cynco.clock import wall_now
from cynco.tenancy import Scope
from gateways.models import PaymentAttempt

Kind = EmailKind


def settings_of(merchant_id: str) -> EmailSettings:
    """The merchant's email settings (an unsaved default row when it never changed them)."""
    return EmailSettings.objects.filter(merchant_id=merchant_id).first() or EmailSettings(
        merchant_id=merchant_id)


# The event types that cause an email, and which (the rest cause none, at the cost of
# nothing). A failed payment whose charge waits for 3-D Secure asks for the customer's action.
CAUSES = {"payment.succeeded": Kind.RECEIPT, "payment.refunded": Kind.REFUND_ISSUED,
          "subscription.canceled": Kind.SUBSCRIPTION_CANCELED,
          "payment.failed": Kind.PAYMENT_FAILED}


def _waiting_for_action(scope: Scope, invoice_ids: set[str]) -> dict[str, str]:
    """invoice id → the 3-D Secure page of its latest charge, for those whose latest charge
    waits for the customer (one query for a whole batch of failed payments)."""
    latest: dict[str, PaymentAttempt] = {}
    for attempt in PaymentAttempt.objects.for_scope(scope).filter(
            source_reference__in=invoice_ids, kind=PaymentAttempt.Kind.CHARGE
    ).order_by("created_at").only("source_reference", "status", "action_url"):
        latest[attempt.source_reference] = attempt
    return {source: attempt.action_url for source, attempt in latest.items()
            if attempt.status == PaymentAttempt.Status.REQUIRES_ACTION and attempt.action_url}


def emails_queue_for_events(*, scope: Scope, events: list[tuple[str, str, dict]]) -> int:
    """Queue the emails that `events` — (event id, type, data) just written to the outbox —
    cause. Runs inside the caller's transaction (emit_events); takes no lock, posts no ledger
    entry. Returns how many rows were written."""
    events = [event for event in events if event[1] in CAUSES and event[2].get("customerId")]
    if not events:
        return 0
    chosen = settings_of(scope.merchant_id)
    if scope.is_test and not chosen.send_in_test_mode:
        return 0
    failed = {data.get("invoiceId") for _, type, data in events if type == "payment.failed"}
    action_urls = _waiting_for_action(scope, failed - {None}) if failed else {}
    wanted = []
    for event_id, type, data in events:
        kind = CAUSES[type]
        if type == "payment.failed" and data.get("invoiceId") in action_urls:
            kind, data = Kind.ACTION_REQUIRED, {**data,
                                                "actionUrl": action_urls[data["invoiceId"]]}
        wanted.append((event_id, kind, data["customerId"], data))
    return _queue(scope, wanted, chosen)


def email_notices_queue(*, scope: Scope, at: datetime) -> int:
    """Queue the trial-ending and renewal notices that fall due by `at` on `scope`'s clock:
    a trial ending within `trial_ending_days` days, a yearly plan renewing within
    `renewal_notice_days` (and not set to cancel). Each trial end and each renewal date gets
    its notice once, however often this runs. One transaction; takes no lock, no ledger entry."""
    chosen = settings_of(scope.merchant_id)
    if scope.is_test and not chosen.send_in_test_mode:
        return 0
    wanted = []
    if chosen.sends(Kind.TRIAL_ENDING):
        trials = Subscription.objects.for_scope(scope).filter(
            status=Subscription.Status.TRIALING, trial_end__gt=at,
            trial_end__lte=at + timedelta(days=chosen.trial_ending_days))
        for subscription in trials.select_related("product", "price"):
            wanted.append((f"trial:{subscription.id}:{subscription.trial_end.isoformat()}",
                           Kind.TRIAL_ENDING, subscription.customer_id,
                           _notice_data(subscription, subscription.trial_end)))
    if chosen.sends(Kind.RENEWAL_UPCOMING):
        renewals = Subscription.objects.for_scope(scope).filter(
            status=Subscription.Status.ACTIVE, cancel_at_period_end=False,
            price__billing_interval="year", current_period_end__gt=at,
            current_period_end__lte=at + timedelta(days=chosen.renewal_notice_days))
        for subscription in renewals.select_related("product", "price"):
            end = subscription.current_period_end
            wanted.append((f"renewal:{subscription.id}:{end.isoformat()}",
                           Kind.RENEWAL_UPCOMING, subscription.customer_id,
                           _notice_data(subscription, end)))
    with transaction.atomic():
        return _queue(scope, wanted, chosen)


def _notice_data(subscription: Subscription, when: datetime) -> dict:
    return {"subscriptionId": subscription.id, "customerId": subscription.customer_id,
            "productName": subscription.product.name, "at": when.isoformat(),
            "priceId": subscription.price_id}


def _queue(scope: Scope, wanted: list[tuple[str, str, str, dict]],
           chosen: EmailSettings | None = None) -> int:
    """Write a pending row for each (source, kind, customer id, context) the merchant sends."""
    if not wanted:
        return 0
    chosen = chosen or settings_of(scope.merchant_id)
    if scope.is_test and not chosen.send_in_test_mode:
        return 0
    wanted = [row for row in wanted if chosen.sends(row[1])]
    emails = dict(Customer.objects.for_scope(scope).filter(
        pk__in={row[2] for row in wanted}).exclude(email__isnull=True).exclude(
        email="").values_list("id", "email"))
    now = wall_now()
    rows = [
        EmailMessage(merchant_id=scope.merchant_id, environment=scope.environment, kind=kind,
                     source=source, customer_id=customer_id, to=emails[customer_id],
                     context=context, is_test=scope.is_test, next_attempt_at=now)
        for source, kind, customer_id, context in wanted if customer_id in emails
    ]
    if not rows:
        return 0
    # The constraint, not a read first: two transactions queueing the same cause cannot both
    # write it, and the loser's insert does nothing instead of failing the business change.
    written = EmailMessage.objects.bulk_create(rows, ignore_conflicts=True)
    transaction.on_commit(partial(queue_email_delivery, [row.id for row in written]),
                          robust=True)
    return len(written)


def queue_email_delivery(message_ids: list[str]) -> None:
    """Hand freshly queued emails to a worker (after commit); the minutely beat job sends them
    instead when the broker is down."""
    from billing import tasks  # tasks import the services; import here to avoid a cycle

    tasks.deliver_emails.delay(message_ids)

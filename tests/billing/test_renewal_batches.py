"""The period-end job at a busy minute: many plain renewals at once go through the batch path
(renewal_batches) and keep every guarantee of the one-by-one path."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connections, transaction

from billing.models import AuditEvent, Invoice, OutgoingEvent, Subscription
from billing.services.invoices import LineDraft, invoice_issue
from billing.services.renewal_batches import renew_many
from billing.services.renewals import run_due
from cynco import clock
from cynco.locks import lock_customer, try_lock_customers
from cynco.tenancy import Scope
from gateways.models import PaymentAttempt
from gateways.sandbox.models import SandboxPayment
from gateways.services.recovery import recover_pending_attempts
from ledger.models import JournalEntry
from tests.billing.due_renewals import OK_CARD, due_subscriptions
from tests.billing.subscribing import DECLINED_CARD
from tests.threads import race

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def scope(merchant):
    return Scope(merchant.merchant.id, "test")


@pytest.fixture
def small_batches(settings):
    settings.PERIOD_END_BATCH_SIZE = 15


def numbers(scope):
    return sorted(Invoice.objects.for_scope(scope).values_list("number", flat=True))


def gapless(count):
    return [f"INV-TEST-{n:06d}" for n in range(1, count + 1)]


def test_forty_customers_due_together_each_get_one_paid_invoice_numbered_without_gaps(
        scope, small_batches):
    subscriptions = due_subscriptions(scope, 40)
    ran = run_due(scope=scope, at=clock.now(scope))
    assert (ran["renewals"], ran["invoices"], ran["charges"]) == (40, 40, 40)
    assert ran["failedCharges"] == 0
    invoices = list(Invoice.objects.for_scope(scope).prefetch_related("lines"))
    assert numbers(scope) == gapless(40)
    assert {i.subscription_id for i in invoices} == {s.id for s in subscriptions}
    assert all((i.status, i.total, i.amount_paid, i.amount_due) == ("paid", 2000, 2000, 0)
               for i in invoices)
    assert all([line.amount for line in i.lines.all()] == [2000] for i in invoices)
    kinds = Counter(JournalEntry.objects.for_scope(scope).values_list("kind", flat=True))
    assert kinds == {"invoice_finalized": 40, "payment_captured": 40}
    events = Counter(OutgoingEvent.objects.for_scope(scope).values_list("type", flat=True))
    assert events == {"invoice.created": 40, "invoice.paid": 40, "payment.succeeded": 40,
                      "subscription.renewed": 40}
    assert AuditEvent.objects.for_scope(scope).filter(event="subscription.renewed").count() == 40
    assert all(i.history.count() == 2 for i in invoices)  # opened, then paid
    for subscription in subscriptions:
        renewed = Subscription.objects.get(pk=subscription.pk)
        assert renewed.current_period_start == subscription.current_period_end
        assert renewed.history.count() == 1
    attempts = PaymentAttempt.objects.for_scope(scope)
    assert sorted(attempts.values_list("source_reference", flat=True)) == sorted(
        i.id for i in invoices)
    assert set(attempts.values_list("status", flat=True)) == {"succeeded"}
    assert run_due(scope=scope, at=clock.now(scope))["renewals"] == 0


def test_declined_cards_and_customers_without_one_go_past_due_while_the_rest_are_paid(
        scope, small_batches):
    due_subscriptions(scope, 30, cards=(OK_CARD, DECLINED_CARD, None))
    ran = run_due(scope=scope, at=clock.now(scope))
    assert (ran["renewals"], ran["charges"], ran["failedCharges"]) == (30, 30, 20)
    statuses = Counter(Subscription.objects.for_scope(scope).values_list("status", flat=True))
    assert statuses == {"active": 10, "past_due": 20}
    assert Counter(Invoice.objects.for_scope(scope).values_list("status", flat=True)) == {
        "paid": 10, "open": 20}
    assert numbers(scope) == gapless(30)
    late = Subscription.objects.for_scope(scope).filter(status="past_due")
    assert all(s.next_retry_at == s.past_due_since + timedelta(days=1) for s in late)


def test_two_workers_at_once_invoice_and_charge_every_subscription_exactly_once(
        scope, small_batches):
    due_subscriptions(scope, 60)
    at = clock.now(scope)
    results = race([lambda: run_due(scope=scope, at=at)] * 2)
    assert sum(r["renewals"] for r in results) == 60, results
    assert sum(r["charges"] for r in results) == 60
    assert all(r["renewals"] for r in results)  # they shared the work
    per_subscription = Counter(Invoice.objects.for_scope(scope).values_list("subscription_id",
                                                                             flat=True))
    assert len(per_subscription) == 60 and set(per_subscription.values()) == {1}
    assert numbers(scope) == gapless(60)
    assert SandboxPayment.objects.filter(merchant_id=scope.merchant_id).count() == 60
    assert set(Invoice.objects.for_scope(scope).values_list("status", flat=True)) == {"paid"}


def test_a_customer_busy_elsewhere_is_left_for_the_next_run(scope, small_batches):
    subscriptions = due_subscriptions(scope, 5)
    busy = subscriptions[2].customer_id
    held, release = threading.Event(), threading.Event()

    def hold_the_customer():
        try:
            with transaction.atomic():
                lock_customer(busy)
                held.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_customer)
    holder.start()
    held.wait(10)
    try:
        first = run_due(scope=scope, at=clock.now(scope), max_rounds=1)
    finally:
        release.set()
        holder.join()
    assert first["renewals"] == 4
    assert not Invoice.objects.filter(customer_id=busy).exists()
    assert run_due(scope=scope, at=clock.now(scope))["renewals"] == 1
    assert Invoice.objects.get(customer_id=busy).status == "paid"
    assert numbers(scope) == gapless(5)


def test_a_period_invoiced_already_sends_the_batch_one_by_one_without_a_second_invoice(
        scope, small_batches):
    subscriptions = due_subscriptions(scope, 6)
    first = subscriptions[0]
    with transaction.atomic():
        invoice_issue(scope=scope, customer=first.customer, subscription=first,
                      reason="subscription_cycle", currency="MYR",
                      lines=[LineDraft("subscription", "Pro", 2000)],
                      at=first.current_period_end, period_start=first.current_period_end)
    ran = run_due(scope=scope, at=clock.now(scope), max_rounds=1)
    assert ran["renewals"] == 5
    assert Invoice.objects.filter(subscription=first).count() == 1
    assert numbers(scope) == gapless(6)
    assert Invoice.objects.for_scope(scope).filter(status="paid").count() == 5


def test_charges_a_crash_left_unsent_are_sent_once_by_the_sweeper(scope):
    subscriptions = due_subscriptions(scope, 4)
    with transaction.atomic():  # phase 1 commits, then the worker dies before charging
        rows = list(Subscription.objects.filter(pk__in=[s.pk for s in subscriptions])
                    .select_related("product", "price").select_for_update(of=("self",)))
        try_lock_customers(row.customer_id for row in rows)
        prepared = renew_many(scope, rows, Counter())
    assert len(prepared) == 4 and all(p.attempt_id for p in prepared)
    assert set(Invoice.objects.for_scope(scope).values_list("status", flat=True)) == {"open"}
    recover_pending_attempts(older_than=timedelta(0))
    assert set(Invoice.objects.for_scope(scope).values_list("status", flat=True)) == {"paid"}
    assert SandboxPayment.objects.filter(merchant_id=scope.merchant_id).count() == 4
    assert run_due(scope=scope, at=clock.now(scope))["charges"] == 0

"""Period-end jobs: renewals (with last period's overage), trial ends, scheduled downgrades
and cancellations, pause ends, and dunning. Called by the beat task (billing.tasks) and by the
test clock (`/test/clock/advance`), always for one scope "as of" a time.

Each round picks due subscriptions in batches with `SELECT … FOR UPDATE SKIP LOCKED` (several
workers share the work), takes each customer's lock without waiting (a busy customer is left
for the next round), and writes the period's invoice in the batch's transaction; the unique
(subscription, period start) of invoices makes a second renewal of one period impossible.
Charges run after commit with no lock held (billing.services.payments), and their outcomes
are recorded by `renewal_settle` in a transaction of their own. One event per subscription per
round, so a clock moved three months ahead renews three times, in order.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, When

from billing.models import Invoice, Subscription
from billing.services import entitlement_sync
from billing.services.audit import CRON
from billing.services.invoices import (
    LineDraft,
    invoice_issue,
    invoice_mark_paid,
    invoice_mark_uncollectible,
)
from billing.services.invoice_collection import invoice_collect
from billing.services.renewal_batches import (
    Prepared,
    is_plain_renewal,
    overage_lines,
    renew_many,
    renewal_lines,
    settle_paid_many,
)
from billing.services.subscription_updates import subscription_resume_now
from billing.services.subscriptions import (
    announce,
    period_end_after,
    price_amount,
    subscription_end,
    subscription_start,
)
from cynco.locks import lock_customer, try_lock_customers
from cynco.tenancy import Scope
from gateways.models import PaymentAttempt
from gateways.outcomes import PaymentAttemptResult
from gateways.services.charge_batches import charges_execute_many

logger = logging.getLogger(__name__)
Status = Subscription.Status
# Dunning: retry a failed renewal this many days after the first failure, then give up.
RETRY_DAYS = (1, 3, 5)


@dataclass
class Due:
    """A charge a round left to make after commit."""

    invoice_id: str
    subscription_id: str
    customer_id: str
    amount: int
    currency: str
    attempt_number: int


def run_due(*, scope: Scope, at: datetime, max_rounds: int = 1000) -> Counter:
    """Run every period-end job of `scope` due by `at`, round after round until none is left.
    Returns what ran: renewals, invoices, trialEnds, downgrades, cancellations, resumes,
    dunningSteps, charges, failedCharges."""
    ran: Counter = Counter()
    for _ in range(max_rounds):
        if not _round(scope, at, ran):
            break
    return ran


def _round(scope: Scope, at: datetime, ran: Counter) -> int:
    """One event for every subscription due now; returns how many were handled."""
    batch_size = settings.PERIOD_END_BATCH_SIZE
    handled, seen = 0, set()
    while True:
        charges, prepared, stepped, picked = _batch(scope, at, ran, batch_size, seen)
        _collect_prepared(scope, prepared, ran)
        for due in charges:
            _collect(scope, due, ran)
        handled += stepped
        if picked < batch_size or not stepped:
            return handled


def due_filter(at) -> Q:
    """Subscriptions with a period-end event due by `at` (a datetime, or an expression such
    as each row's own clock, for the backlog figures of billing.selectors.backlog)."""
    return (
        Q(status__in=[Status.ACTIVE, Status.TRIALING], current_period_end__lte=at)
        | Q(status=Status.PAST_DUE, next_retry_at__lte=at)
        | Q(status=Status.PAUSED, resume_at__lte=at)
    )


def due_moment() -> Case:
    """When a subscription's next period-end event falls due (the column `due_filter` reads)."""
    return Case(
        When(status__in=[Status.ACTIVE, Status.TRIALING], then=F("current_period_end")),
        When(status=Status.PAST_DUE, then=F("next_retry_at")),
        When(status=Status.PAUSED, then=F("resume_at")),
    )


def _due_rows(scope: Scope, at: datetime):
    return Subscription.objects.for_scope(scope).filter(due_filter(at))


def _batch(scope, at, ran, batch_size, seen) -> tuple[list[Due], list[Prepared], int, int]:
    """One SKIP LOCKED batch in one transaction: (charges to make one by one, charges prepared
    by the batch path, rows stepped, rows picked). `seen` keeps a round to one event per
    subscription. Plain renewals go through renewal_batches together; the rest one by one."""
    charges: list[Due] = []
    with transaction.atomic():
        rows = list(
            _due_rows(scope, at).exclude(pk__in=seen)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("product", "price", "scheduled_price")
            .order_by("current_period_end", "id")[:batch_size]
        )
        seen.update(row.id for row in rows)
        picked = len(rows)
        locked = try_lock_customers(row.customer_id for row in rows)
        rows = [row for row in rows if row.customer_id in locked]
        plain = [row for row in rows if is_plain_renewal(row)]
        prepared = _renew_plain(scope, plain, ran)
        if prepared is None:  # a period was invoiced already: all one by one, fresh rows
            prepared, one_by_one = [], _reread(rows)
        else:
            one_by_one = [row for row in rows if not is_plain_renewal(row)]
        for subscription in one_by_one:
            try:
                with transaction.atomic():
                    due = _step(scope, subscription, ran)
            except IntegrityError:
                # Already invoiced for this period by another worker: nothing to do.
                logger.info("period of %s already invoiced", subscription.id)
                continue
            if due is not None:
                charges.append(due)
    return charges, prepared, len(rows), picked


def _renew_plain(scope, rows, ran) -> list[Prepared] | None:
    """The batch path for plain renewals, in a savepoint; None if it was rolled back because
    a period was invoiced already (IntegrityError on the unique period invoice)."""
    if not rows:
        return []
    counts: Counter = Counter()
    try:
        with transaction.atomic():
            prepared = renew_many(scope, rows, counts)
    except IntegrityError:
        logger.info("a period of batch %s… was invoiced already; going one by one", rows[0].id)
        return None
    ran.update(counts)
    return prepared


def _reread(rows) -> list[Subscription]:
    """The rows again, as committed (the rolled-back batch path changed them in memory);
    this transaction still holds their row locks."""
    return list(Subscription.objects.filter(pk__in=[row.id for row in rows])
                .select_related("product", "price", "scheduled_price")
                .order_by("current_period_end", "id"))


def _collect_prepared(scope, prepared: list[Prepared], ran) -> None:
    """Charge what the batch path prepared (after commit), then record the outcomes: the paid
    in one transaction, the rest one by one (renewal_settle)."""
    if not prepared:
        return
    results = charges_execute_many(attempt_ids=[p.attempt_id for p in prepared if p.attempt_id])
    outcomes = {p.invoice_id: results.get(p.attempt_id) for p in prepared}
    ran["charges"] += len(outcomes)
    ran["failedCharges"] += sum(1 for result in outcomes.values()
                                if result is None or not result.succeeded)
    for invoice_id, attempt in settle_paid_many(scope, outcomes).items():
        renewal_settle(scope=scope, invoice_id=invoice_id, attempt=attempt)


def _step(scope, subscription, ran) -> Due | None:
    """One due event of one subscription, as of the moment it fell due."""
    if subscription.status == Status.PAUSED:
        subscription_resume_now(scope, subscription, subscription.resume_at, CRON)
        ran["resumes"] += 1
        return None
    if subscription.status == Status.PAST_DUE:
        return _dunning_step(scope, subscription, ran)
    boundary = subscription.current_period_end
    overage = entitlement_sync.period_close(subscription=subscription, period_end=boundary,
                                            at=boundary)
    if subscription.cancel_at_period_end:
        subscription_end(subscription=subscription, status=Status.CANCELED, at=boundary)
        announce(scope=scope, subscription=subscription, events=["subscription.expired"],
                 actor=CRON, details={"reason": "canceled_at_period_end"})
        ran["cancellations"] += 1
        return _final_overage(scope, subscription, overage, boundary, ran)
    if subscription.scheduled_price_id:
        return _apply_downgrade(scope, subscription, overage, boundary, ran)
    return _renew(scope, subscription, overage, boundary, ran)


def _period_invoice(scope, subscription, lines, reason, start, end, overage) -> Invoice | None:
    """The period's invoice, when it has anything to bill (free plans get none)."""
    if not any(line.amount for line in lines):
        return None
    invoice = invoice_issue(
        scope=scope, customer=subscription.customer, subscription=subscription, reason=reason,
        currency=(subscription.price.currency if subscription.price else "MYR"), lines=lines,
        at=start, period_start=start, period_end=end,
    )
    if overage:
        entitlement_sync.overage_invoiced(
            period_usage_ids=[line.period_usage_id for line in overage], invoice_id=invoice.id)
    return invoice


def _renew(scope, subscription, overage, boundary, ran) -> Due | None:
    trial_ending = subscription.status == Status.TRIALING
    end = period_end_after(subscription.price, boundary, subscription.billing_anchor_day)
    lines = renewal_lines(subscription, overage, boundary, end)
    invoice = _period_invoice(scope, subscription, lines, Invoice.Reason.SUBSCRIPTION_CYCLE,
                              boundary, end, overage)
    subscription.status = Status.ACTIVE
    subscription.current_period_start, subscription.current_period_end = boundary, end
    subscription.save()
    entitlement_sync.subscription_changed(subscription=subscription, at=boundary)
    ran["trialEnds" if trial_ending else "renewals"] += 1
    announce(scope=scope, subscription=subscription, actor=CRON,
             events=["subscription.activated" if trial_ending else "subscription.renewed"])
    return _due_for(invoice, subscription, ran, attempt_number=1)


def _apply_downgrade(scope, subscription, overage, boundary, ran) -> Due | None:
    price = subscription.scheduled_price
    replacement = subscription_start(
        scope=scope, customer=subscription.customer, product=price.product, price=price,
        status=Status.ACTIVE, at=boundary, quantity=subscription.quantity,
        anchor_day=subscription.billing_anchor_day,
    )
    subscription_end(subscription=subscription, status=Status.CANCELED, at=boundary,
                     replaced_by=replacement)
    lines = overage_lines(overage)
    amount = price_amount(price, replacement.quantity)
    if amount:
        lines.insert(0, LineDraft("subscription", price.product.name, amount,
                                  quantity=replacement.quantity, unit_amount=price.amount,
                                  period_start=boundary,
                                  period_end=replacement.current_period_end))
    invoice = _period_invoice(scope, replacement, lines, Invoice.Reason.SUBSCRIPTION_CREATE,
                              boundary, replacement.current_period_end, overage)
    ran["downgrades"] += 1
    announce(scope=scope, subscription=replacement, actor=CRON,
             events=["subscription.created", "subscription.downgraded"],
             details={"replaces": subscription.id})
    return _due_for(invoice, replacement, ran, attempt_number=1)


def _final_overage(scope, subscription, overage, boundary, ran) -> Due | None:
    invoice = _period_invoice(scope, subscription, overage_lines(overage),
                              Invoice.Reason.PERIOD_CLOSE, boundary, None, overage)
    return _due_for(invoice, subscription, ran, attempt_number=1)


def _due_for(invoice, subscription, ran, *, attempt_number) -> Due | None:
    if invoice is None:
        return None
    ran["invoices"] += 1
    if invoice.amount_due == 0:
        return None
    return Due(invoice.id, subscription.id, subscription.customer_id, invoice.amount_due,
               invoice.currency, attempt_number)


def _dunning_step(scope, subscription, ran) -> Due | None:
    """A retry of the unpaid renewal falls due: charge again (after commit)."""
    invoice = subscription.invoices.filter(status=Invoice.Status.OPEN).order_by(
        "-created_at").first()
    ran["dunningSteps"] += 1
    retry = subscription.dunning_retries + 1
    subscription.dunning_retries = retry
    subscription.next_retry_at = None  # set again by renewal_settle if this one fails too
    subscription.save(update_fields=["dunning_retries", "next_retry_at", "updated_at"])
    if invoice is None:  # paid meanwhile (say, by a late webhook)
        _recover(scope, subscription, subscription.past_due_since)
        return None
    return Due(invoice.id, subscription.id, subscription.customer_id, invoice.amount_due,
               invoice.currency, retry + 1)


def _collect(scope, due: Due, ran) -> None:
    collection = invoice_collect(
        scope=scope, invoice_id=due.invoice_id, customer_id=due.customer_id, amount=due.amount,
        currency=due.currency, attempt_number=due.attempt_number,
    )
    ran["charges"] += 1
    if not collection.succeeded:
        ran["failedCharges"] += 1


def renewal_settle(*, scope: Scope, invoice_id: str,
                   attempt: PaymentAttemptResult | None) -> None:
    """Record how charging a period invoice went. Paid: the invoice is paid (ledger: payment
    captured) and a past-due subscription recovers. Not paid (declined, no card, 3-D Secure
    the customer is not there for): the subscription is past_due, retried 1, 3 and 5 days after
    the first failure, then canceled and the invoice written off (uncollectible).
    Takes lock_customer first. Idempotent for an attempt already recorded."""
    if attempt is not None and attempt.status == PaymentAttempt.Status.PENDING:
        return  # the sweeper or a webhook settles it later
    invoice = Invoice.objects.for_scope(scope).filter(pk=invoice_id).first()
    if invoice is None or invoice.subscription_id is None:
        return  # not a period invoice of ours
    with transaction.atomic():
        lock_customer(invoice.customer_id)
        invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
        subscription = Subscription.objects.select_related("product").select_for_update(
            of=("self",)).get(pk=invoice.subscription_id)
        at = invoice.created_at if subscription.past_due_since is None else (
            subscription.past_due_since + timedelta(
                days=RETRY_DAYS[min(subscription.dunning_retries, len(RETRY_DAYS)) - 1]))
        if invoice.status != Invoice.Status.OPEN:
            return
        if attempt is not None and attempt.succeeded:
            invoice_mark_paid(scope=scope, invoice=invoice, at=at, payment_attempt_id=attempt.id,
                              payment_id=attempt.id, gateway=attempt.gateway)
            if subscription.status == Status.PAST_DUE:
                _recover(scope, subscription, at)
            return
        _failed(scope, subscription, invoice, at, attempt)


def _failed(scope, subscription, invoice, at, attempt) -> None:
    if subscription.status not in (Status.ACTIVE, Status.PAST_DUE):
        return
    reason = attempt.failure_message if attempt is not None else "No saved card"
    if subscription.status == Status.ACTIVE:
        subscription.status = Status.PAST_DUE
        subscription.past_due_since = invoice.created_at
        subscription.dunning_retries = 0
    if subscription.dunning_retries >= len(RETRY_DAYS):
        subscription.save()
        subscription_end(subscription=subscription, status=Status.CANCELED, at=at)
        invoice_mark_uncollectible(scope=scope, invoice=invoice, at=at)
        announce(scope=scope, subscription=subscription, events=["subscription.canceled"],
                 actor=CRON, details={"reason": "payment_failed", "invoiceId": invoice.id})
        return
    subscription.next_retry_at = subscription.past_due_since + timedelta(
        days=RETRY_DAYS[subscription.dunning_retries])
    subscription.save()
    entitlement_sync.subscription_changed(subscription=subscription, at=at)
    from billing.services.webhooks import emit_event

    emit_event(scope=scope, type="payment.failed", data={
        "invoiceId": invoice.id, "subscriptionId": subscription.id,
        "customerId": subscription.customer_id, "amount": invoice.amount_due,
        "currency": invoice.currency, "reason": reason,
        "nextRetryAt": subscription.next_retry_at,
    })


def _recover(scope, subscription, at) -> None:
    subscription.status = Status.ACTIVE
    subscription.past_due_since = subscription.next_retry_at = None
    subscription.dunning_retries = 0
    subscription.save()
    entitlement_sync.subscription_changed(subscription=subscription, at=at)
    announce(scope=scope, subscription=subscription, events=["subscription.updated"],
             actor=CRON, details={"change": "recovered"})


def due_count(*, scope: Scope, at: datetime) -> int:
    """How many subscriptions have a period-end event due by `at` (a run's progress)."""
    return _due_rows(scope, at).count()

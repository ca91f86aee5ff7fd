"""The period-end job's fast path for plain renewals (an active or trialing subscription whose
period ends, with nothing scheduled), a SKIP LOCKED batch at a time, in three phases:

1. `renew_many`, in the batch's transaction (rows locked, customers' locks held): the new
   periods, events and audit rows, the invoices with their lines, numbers and ledger entries,
   and a pending payment attempt per invoice — a few statements for the whole batch; the
   invoice counter is bumped once, as late as possible.
2. after commit, with no transaction open: the gateway calls (gateways.services.
   charge_batches.charges_execute_many), outcomes recorded in one gateways transaction.
3. `settle_paid_many`: the paid invoices marked paid (ledger: payment captured) in one
   transaction; anything else (declines, no card, a busy customer, a past-due subscription)
   goes back to `renewals.renewal_settle`, one by one.

Everything else (cancellations, downgrades, pause ends, dunning) stays one by one in
billing.services.renewals.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from billing.models import Invoice, Subscription
from billing.services import entitlement_sync
from billing.services.audit import CRON
from billing.services.invoices import (
    InvoiceDraft,
    InvoicePayment,
    LineDraft,
    invoices_issue_many,
    invoices_mark_paid_many,
)
from billing.services.subscriptions import announce_many, period_end_after, price_amount
from cynco.bulk import update_rows_with_history
from cynco.locks import try_lock_customers
from cynco.tenancy import Scope
from gateways.outcomes import PaymentAttemptResult
from gateways.services.charge_batches import ChargeDraft, charges_prepare

Status = Subscription.Status


@dataclass(frozen=True)
class Prepared:
    """A renewal invoice to collect after commit: its pending attempt (None: no saved card)."""

    invoice_id: str
    attempt_id: str | None


def is_plain_renewal(subscription: Subscription) -> bool:
    return (subscription.status in (Status.ACTIVE, Status.TRIALING)
            and not subscription.cancel_at_period_end and not subscription.scheduled_price_id
            and subscription.price_id is not None)


def overage_lines(overage) -> list[LineDraft]:
    return [
        LineDraft("overage", f"{line.feature_name}: {line.units} over the allowance",
                  line.amount, quantity=line.units, unit_amount=line.unit_price,
                  period_start=line.period_start, period_end=line.period_end)
        for line in overage if line.amount
    ]


def renewal_lines(subscription: Subscription, overage, boundary, end, *,
                  trial_ending: bool | None = None) -> list[LineDraft]:
    """A renewal invoice's lines: the new period (with the setup fee when a trial ends:
    `trial_ending`, else the subscription is still trialing), then the last period's
    overage."""
    if trial_ending is None:
        trial_ending = subscription.status == Status.TRIALING
    price, product = subscription.price, subscription.product
    lines = overage_lines(overage)
    amount = price_amount(price, subscription.quantity)
    if amount:
        lines.insert(0, LineDraft("subscription", product.name, amount,
                                  quantity=subscription.quantity, unit_amount=price.amount,
                                  period_start=boundary, period_end=end))
        if trial_ending and price.setup_fee:
            lines.insert(1, LineDraft("setup_fee", f"Setup fee: {product.name}",
                                      price.setup_fee))
    return lines


def renew_many(scope: Scope, subscriptions: list[Subscription], ran: Counter) -> list[Prepared]:
    """Renew plain renewals (rows locked and customers' locks held by the caller's transaction)
    as `renewals._renew` does one: same invoice, events, audit rows and ledger entries, plus a
    pending charge attempt per invoice. Raises IntegrityError if a period is invoiced already
    (the caller rolls the batch back and goes one by one)."""
    announcements = []
    now = timezone.now()
    for subscription in subscriptions:
        boundary = subscription.current_period_end
        end = period_end_after(subscription.price, boundary, subscription.billing_anchor_day)
        trial_ending = subscription.status == Status.TRIALING
        ran["trialEnds" if trial_ending else "renewals"] += 1
        # Lines and events are made from the subscription as it was (trialing: setup fee).
        announcements.append((subscription, ["subscription.activated" if trial_ending
                                             else "subscription.renewed"], trial_ending))
        subscription.status = Status.ACTIVE
        subscription.current_period_start, subscription.current_period_end = boundary, end
        subscription.updated_at = now
    overages = entitlement_sync.subscriptions_renewed(subscriptions=subscriptions)
    drafts = []
    for subscription, _, trial_ending in announcements:
        boundary, end = subscription.current_period_start, subscription.current_period_end
        lines = renewal_lines(subscription, overages[subscription.id], boundary, end,
                              trial_ending=trial_ending)
        if any(line.amount for line in lines):
            drafts.append(InvoiceDraft(
                subscription.customer_id, subscription.id, Invoice.Reason.SUBSCRIPTION_CYCLE,
                subscription.price.currency, lines, boundary, boundary, end))
    update_rows_with_history(subscriptions, [
        "status", "current_period_start", "current_period_end", "updated_at"])
    announce_many(scope=scope, actor=CRON, announcements=[
        (subscription, events, None) for subscription, events, _ in announcements])
    invoices = invoices_issue_many(scope=scope, drafts=drafts) if drafts else []
    ran["invoices"] += len(invoices)
    entitlement_sync.overages_invoiced(invoices={
        line.period_usage_id: invoice.id
        for invoice in invoices for line in overages[invoice.subscription_id]})
    due = [invoice for invoice in invoices if invoice.amount_due]
    attempts = charges_prepare(scope=scope, drafts=[
        ChargeDraft(invoice.customer_id, invoice.amount_due, invoice.currency,
                    f"{invoice.id}:charge:1", invoice.id)
        for invoice in due])
    return [Prepared(invoice.id, attempts[invoice.id].id if invoice.id in attempts else None)
            for invoice in due]


def settle_paid_many(scope: Scope, outcomes: dict[str, PaymentAttemptResult | None]
                     ) -> dict[str, PaymentAttemptResult | None]:
    """Mark the renewal invoices whose charge succeeded paid, in one transaction (each
    customer's lock tried first, then the invoices' row locks). Returns the outcomes left for
    `renewals.renewal_settle` (failures, pending, busy customers, past-due subscriptions)."""
    paid = {invoice_id: attempt for invoice_id, attempt in outcomes.items()
            if attempt is not None and attempt.succeeded}
    left = {invoice_id: attempt for invoice_id, attempt in outcomes.items()
            if invoice_id not in paid}
    if not paid:
        return left
    with transaction.atomic():
        locked = try_lock_customers(attempt.customer_reference for attempt in paid.values())
        invoices = list(
            Invoice.objects.for_scope(scope).select_for_update(of=("self",))
            .select_related("subscription")
            .filter(pk__in=list(paid), customer_id__in=locked).order_by("pk"))
        payments = []
        for invoice in invoices:
            subscription = invoice.subscription
            if subscription.status == Status.PAST_DUE or subscription.past_due_since:
                continue
            attempt = paid.pop(invoice.id)
            if invoice.status == Invoice.Status.OPEN:
                payments.append(InvoicePayment(invoice, invoice.created_at, attempt.id,
                                               attempt.id, attempt.gateway))
        invoices_mark_paid_many(scope=scope, payments=payments)
    left.update(paid)
    return left

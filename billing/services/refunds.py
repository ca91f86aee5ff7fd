"""Refunds of what a customer paid, through the gateways' refund flow (DESIGN.md, Concurrency).

    1. refund_decide — inside the transaction that decides it (a cancel_immediately, under the
       customer's lock): a pending `Refund`, sent once that transaction commits (on_commit)
    2. refund_send — no transaction open: refund_start (commits a pending refund attempt whose
       key is the refund's id), then refund_execute (the gateway call)
    3. refund_settle — a transaction of its own, under the customer's lock: succeeded → the
       ledger's refund entry (DR 4910 / CR 1100-<gateway>), `payment.refunded`, audit;
       refused by the gateway → `failed` with its reason, audit `refund.failed`, nothing posted

A gateway that cannot be reached leaves the attempt pending: the gateways' sweeper re-sends it
with the same key and its outcome reaches refund_settle through billing.services.payments.
on_payment_settled. A refund a crash left pending before any attempt was made is sent again
by `refunds_resume` (beat).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from django.db import transaction
from django.db.models import Q

from billing.models import (
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceLine,
    Refund,
    Subscription,
)
from billing.proration import refund_for_immediate_cancel
from billing.services.audit import SYSTEM, Actor, audit_record
from billing.services.credit_notes import CreditLine, credit_note_issue, tax_inside
from billing.services.webhooks import emit_event
from cynco import clock
from cynco.clock import wall_now
from cynco.locks import lock_customer
from cynco.tenancy import Scope
from gateways.base import GatewayError
from gateways.models import PaymentAttempt
from gateways.outcomes import (
    ChargeNotRefundable,
    PaymentAttemptNotFound,
    PaymentAttemptResult,
)
from gateways.services.payments import refund_execute, refund_start
from ledger import rules as ledger

logger = logging.getLogger(__name__)
Status = Refund.Status


def period_invoice_paid(subscription: Subscription) -> Invoice | None:
    """The paid invoice of the subscription's current period (what a refund goes back on):
    its own, or the combined one of a multi-attach that has lines for it."""
    return Invoice.objects.filter(
        Q(subscription=subscription) | Q(lines__subscription_id=subscription.id),
        period_start=subscription.current_period_start, status=Invoice.Status.PAID,
    ).distinct().order_by("created_at", "id").first()


def paid_share(invoice: Invoice, subscription: Subscription) -> int:
    """What `invoice` was paid in money for `subscription`: all of `amountPaid`, unless the
    invoice bills several subscriptions (lines naming them); then the part in proportion to
    the subscription's own charged lines among all charged lines (discounts and tax fall in
    the same proportion), rounded down so the shares never add up to more than was paid."""
    charged = [line for line in invoice.lines.all()
               if line.amount > 0 and line.type != InvoiceLine.Type.TAX]
    if not any(line.subscription_id for line in charged):
        return invoice.amount_paid
    own = sum(line.amount for line in charged
              if (line.subscription_id or invoice.subscription_id) == subscription.id)
    return invoice.amount_paid * own // sum(line.amount for line in charged)


def unused_refund(subscription: Subscription, at) -> int:
    """What ending `subscription` at `at` gives back in money: the unused part of what its
    current period's paid invoice took for it (billing.proration.refund_for_immediate_cancel);
    0 for trials, unpaid, free or finished periods. Credit is not money and is not refunded."""
    end = subscription.current_period_end
    if subscription.status != Subscription.Status.ACTIVE or end is None or at >= end:
        return 0
    invoice = period_invoice_paid(subscription)
    paid = paid_share(invoice, subscription) if invoice else 0
    if not paid:
        return 0
    return refund_for_immediate_cancel(paid, subscription.current_period_start, end, at)


def refund_decide(*, scope: Scope, subscription: Subscription, amount: int, reason: str,
                  at, actor: Actor) -> Refund | None:
    """Write a pending refund of `amount` on the current period's paid invoice and send it once
    the caller's transaction commits. Caller's transaction and customer lock; posts nothing."""
    invoice = period_invoice_paid(subscription)
    if invoice is None or amount <= 0:
        return None
    return refund_create(scope=scope, invoice=invoice, subscription=subscription,
                         amount=amount, reason=reason, at=at, actor=actor)


def refund_create(*, scope: Scope, invoice: Invoice, subscription: Subscription | None,
                  amount: int, reason: str, at, actor: Actor) -> Refund:
    """A pending refund of `amount` on `invoice`, audited, sent once the caller's transaction
    commits. Caller's transaction and customer lock; posts nothing."""
    refund = Refund.objects.create(
        merchant_id=scope.merchant_id, environment=scope.environment,
        customer_id=invoice.customer_id, subscription=subscription, invoice=invoice,
        amount=amount, currency=invoice.currency, reason=reason,
        charge_attempt_id=invoice.payment_attempt_id, created_at=at,
    )
    audit_record(scope=scope, event="refund.created", actor=actor,
                 customer_id=invoice.customer_id,
                 subscription_id=subscription.id if subscription else None,
                 resource_type="refund", resource_id=refund.id,
                 details={"amount": amount, "invoiceId": invoice.id, "reason": reason})
    # robust: an unexpected error while sending is logged, never turned into a failed answer
    # to a change that has committed; the refund stays pending for refunds_resume.
    transaction.on_commit(partial(refund_send, scope=scope, refund_id=refund.id), robust=True)
    return refund


def refund_send(*, scope: Scope, refund_id: str) -> Refund:
    """Send a pending refund to the gateway of the charge it refunds. No transaction may be
    open; no lock is held during the gateway call. Never raises for a gateway's answer."""
    refund = Refund.objects.for_scope(scope).get(pk=refund_id)
    if refund.status != Status.PENDING:
        return refund
    try:
        started = refund_start(
            scope=scope, charge_id=refund.charge_attempt_id, amount=refund.amount,
            idempotency_key=f"refund:{refund.id}", source_reference=refund.id,
            description=refund.reason or "Refund",
        )
    except (ChargeNotRefundable, PaymentAttemptNotFound, GatewayError) as exc:
        return refund_settle(scope=scope, refund_id=refund.id, result=None,
                             failure=("not_refundable", str(exc)))
    Refund.objects.filter(pk=refund.id).update(attempt_id=started.id, gateway=started.gateway)
    try:
        result = refund_execute(attempt_id=started.id)
    except Exception:  # the attempt stays pending: the gateways' sweeper sends it again
        logger.exception("sending refund %s failed", refund.id)
        return Refund.objects.get(pk=refund.id)
    return refund_settle(scope=scope, refund_id=refund.id, result=result)


def refund_settle(*, scope: Scope, refund_id: str, result: PaymentAttemptResult | None,
                  failure: tuple[str, str] | None = None, actor: Actor = SYSTEM) -> Refund:
    """Record a refund's outcome (idempotent: a settled refund is returned unchanged; a pending
    attempt changes nothing). Takes lock_customer first; succeeded issues the refund's credit
    note, posted DR 4910 (and DR 2300 for its share of tax) / CR 1100-<gateway>, and emits
    `payment.refunded`."""
    with transaction.atomic():
        customer_id = Refund.objects.for_scope(scope).values_list(
            "customer_id", flat=True).get(pk=refund_id)
        lock_customer(customer_id)
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.status != Status.PENDING:
            return refund
        if result is not None and result.status == PaymentAttempt.Status.PENDING:
            return refund
        at = clock.now(scope)
        refund.settled_at = at
        if result is not None and result.succeeded:
            refund.status, refund.gateway = Status.SUCCEEDED, result.gateway
            refund.save()
            _credit_note(scope, refund, result.gateway, at)
            data = refund_event_data(refund)
            emit_event(scope=scope, type="payment.refunded", data=data)
            _audit(scope, refund, "payment.refunded", actor, data)
            return refund
        code, message = failure or (result.failure_code, result.failure_message)
        refund.status, refund.failure_code = Status.FAILED, (code or "refund_failed")[:64]
        refund.failure_message = (message or "The gateway refused the refund")[:500]
        refund.save()
        _audit(scope, refund, "refund.failed", actor, {
            "failureCode": refund.failure_code, "failureMessage": refund.failure_message})
        return refund


def _credit_note(scope: Scope, refund: Refund, gateway: str, at) -> None:
    """The refund's credit note: its share of the invoice's tax given back (DR 2300), the rest
    refunded revenue (DR 4910), posted as the refund's one entry (CR 1100-<gateway>)."""
    tax = tax_inside(refund.invoice, refund.amount)
    entry = ledger.refund_issued(scope=scope, refund_id=refund.id, gateway=gateway,
                                 amount=refund.amount, currency=refund.currency,
                                 invoice_id=refund.invoice_id, date=at.date(), tax=tax)
    credit_note_issue(
        scope=scope, type=CreditNote.Type.REFUND, invoice=refund.invoice, refund=refund,
        lines=[CreditLine(CreditNoteLine.Type.REFUND, refund.reason or "Refund",
                          refund.amount - tax)],
        tax=tax, at=at, entry=entry, reason=refund.reason)


def refund_event_data(refund: Refund) -> dict:
    return {"id": refund.id, "invoiceId": refund.invoice_id, "customerId": refund.customer_id,
            "subscriptionId": refund.subscription_id, "amount": refund.amount,
            "currency": refund.currency, "gateway": refund.gateway,
            "paymentAttemptId": refund.attempt_id, "reason": refund.reason}


def _audit(scope, refund, event, actor, details) -> None:
    audit_record(scope=scope, event=event, actor=actor, customer_id=refund.customer_id,
                 subscription_id=refund.subscription_id, resource_type="refund",
                 resource_id=refund.id, details=details)


def refunds_resume(*, older_than: timedelta = timedelta(minutes=5)) -> int:
    """Beat: send refunds a crash left pending before their attempt was made (those with an
    attempt are the gateways' sweeper's). Returns how many were sent."""
    rows = list(Refund.objects.filter(status=Status.PENDING, attempt_id="",
                                      updated_at__lt=wall_now() - older_than)
                .values_list("merchant_id", "environment", "id"))
    for merchant_id, environment, refund_id in rows:
        refund_send(scope=Scope(merchant_id, environment), refund_id=refund_id)
    return len(rows)

"""Payments whose purpose was gone when they succeeded: booked, refunded, or held and flagged.

    1. unapplied_payment_record — inside the transaction that finds the purpose gone
       (checkout_fulfil, under the customer's lock): the payment is booked as the customer's
       money, DR 1100-<gateway> / CR 2100, the audit row `checkout.paid_after_cancel` written
       (once per payment, however many ways its success arrives), and the refund sent once
       that transaction commits (on_commit)
    2. unapplied_refund_send — no transaction open: refund_start (a pending refund attempt of
       the whole payment, key `unapplied:<id>`), then refund_execute (the gateway call)
    3. unapplied_refund_settle — its own transaction, under the customer's lock: succeeded →
       DR 2100 / CR 1100-<gateway>, `payment.refunded`; refused → the money stays in 2100 as
       customer credit (CustomerCredit, source payment, used by the next invoices), the row is
       `held` (needs attention: billing.selectors.unapplied_payments), `payment.needs_attention`

A gateway that cannot be reached leaves the attempt pending: the gateways' sweeper re-sends it
and its outcome arrives through billing.services.payments.on_payment_settled. A refund a crash
left unsent is sent again by `unapplied_refunds_resume` (beat, beside refunds_resume).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from django.db import transaction

from billing.models import Checkout, CustomerCredit, UnappliedPayment
from billing.services.audit import SYSTEM, Actor, audit_record
from billing.services.webhooks import emit_event
from cynco import clock
from cynco.clock import wall_now
from cynco.locks import lock_customer
from cynco.tenancy import Scope
from gateways.base import GatewayError
from gateways.models import PaymentAttempt
from gateways.outcomes import ChargeNotRefundable, PaymentAttemptNotFound, PaymentAttemptResult
from gateways.services.checkout import checkout_charge_record
from gateways.services.payments import refund_execute, refund_start
from ledger import rules as ledger

logger = logging.getLogger(__name__)
Status = UnappliedPayment.Status
PREFIX = "pupy_"


def unapplied_payment_record(*, scope: Scope, checkout: Checkout, payment_id: str,
                             gateway: str, attempt_id: str, reason: str, at,
                             actor: Actor = SYSTEM) -> UnappliedPayment:
    """Book a payment for `checkout` that starts nothing (`reason`: what changed) and refund it
    once the caller's transaction commits. Caller's transaction and lock_customer; posts
    DR 1100-<gateway> / CR 2100. Idempotent per gateway payment: a second arrival of the same
    success returns the row already written and writes nothing."""
    if not attempt_id:  # paid on a hosted page: recorded as a charge attempt to refund it
        attempt_id = checkout_charge_record(
            scope=scope, session_id=checkout.gateway_session_id or checkout.id,
            provider_payment_id=payment_id, amount=checkout.amount,
            currency=checkout.currency, customer_reference=checkout.customer_id,
            source_reference=checkout.id,
        ).id
    attempt = PaymentAttempt.objects.for_scope(scope).get(pk=attempt_id)
    row, created = UnappliedPayment.objects.get_or_create(
        merchant_id=scope.merchant_id, environment=scope.environment, gateway=attempt.gateway,
        provider_payment_id=payment_id or attempt.provider_payment_id or attempt.id,
        defaults={"customer_id": checkout.customer_id, "checkout": checkout,
                  "charge_attempt_id": attempt.id, "amount": attempt.amount,
                  "currency": attempt.currency, "reason": reason[:500], "created_at": at},
    )
    if not created:
        return row
    ledger.payment_unapplied(scope=scope, payment_id=attempt.id, gateway=attempt.gateway,
                             amount=row.amount, currency=row.currency, date=at.date())
    logger.warning("checkout %s was paid after its purpose was gone (%s): payment %s on %s "
                   "is refunded", checkout.id, reason, row.provider_payment_id, row.gateway)
    audit_record(scope=scope, event="checkout.paid_after_cancel", actor=actor,
                 customer_id=checkout.customer_id, resource_type="checkout",
                 resource_id=checkout.id,
                 details={"amount": row.amount, "currency": row.currency,
                          "paymentId": row.provider_payment_id, "attemptId": attempt.id,
                          "gateway": row.gateway, "unappliedPaymentId": row.id,
                          "reason": row.reason})
    transaction.on_commit(partial(unapplied_refund_send, scope=scope, unapplied_id=row.id),
                          robust=True)
    return row


def unapplied_refund_send(*, scope: Scope, unapplied_id: str) -> UnappliedPayment:
    """Refund an unapplied payment in full through its gateway. No transaction may be open;
    no lock is held during the gateway call. Never raises for a gateway's answer."""
    row = UnappliedPayment.objects.for_scope(scope).get(pk=unapplied_id)
    if row.status != Status.REFUNDING:
        return row
    try:
        started = refund_start(
            scope=scope, charge_id=row.charge_attempt_id, amount=row.amount,
            idempotency_key=f"unapplied:{row.id}", source_reference=row.id,
            description=f"Refund of a payment that started nothing: {row.reason}",
        )
    except (ChargeNotRefundable, PaymentAttemptNotFound, GatewayError) as exc:
        return unapplied_refund_settle(scope=scope, unapplied_id=row.id, result=None,
                                       failure=("not_refundable", str(exc)))
    UnappliedPayment.objects.filter(pk=row.id).update(refund_attempt_id=started.id)
    try:
        result = refund_execute(attempt_id=started.id)
    except Exception:  # the attempt stays pending: the gateways' sweeper sends it again
        logger.exception("sending the refund of unapplied payment %s failed", row.id)
        return UnappliedPayment.objects.get(pk=row.id)
    return unapplied_refund_settle(scope=scope, unapplied_id=row.id, result=result)


def unapplied_refund_settle(*, scope: Scope, unapplied_id: str,
                            result: PaymentAttemptResult | None,
                            failure: tuple[str, str] | None = None) -> UnappliedPayment:
    """Record how the refund of an unapplied payment went (idempotent; a pending attempt
    changes nothing). Takes lock_customer first. Succeeded posts DR 2100 / CR
    1100-<gateway> and emits `payment.refunded`; refused keeps the money as customer credit
    (nothing posted: it is in 2100 already) and emits `payment.needs_attention`."""
    with transaction.atomic():
        customer_id = UnappliedPayment.objects.for_scope(scope).values_list(
            "customer_id", flat=True).get(pk=unapplied_id)
        lock_customer(customer_id)
        row = UnappliedPayment.objects.select_for_update().get(pk=unapplied_id)
        if row.status != Status.REFUNDING:
            return row
        if result is not None and result.status == PaymentAttempt.Status.PENDING:
            return row
        at = clock.now(scope)
        row.settled_at = at
        if result is not None and result.succeeded:
            row.status = Status.REFUNDED
            row.save()
            ledger.unapplied_payment_refunded(scope=scope, refund_id=row.id,
                                              gateway=row.gateway, amount=row.amount,
                                              currency=row.currency, date=at.date())
            emit_event(scope=scope, type="payment.refunded", data=unapplied_event_data(row))
            _audit(scope, row, "payment.refunded", unapplied_event_data(row))
            return row
        code, message = failure or (result.failure_code, result.failure_message)
        row.status, row.failure_code = Status.HELD, (code or "refund_failed")[:64]
        row.failure_message = (message or "The gateway refused the refund")[:500]
        row.save()
        CustomerCredit.objects.create(
            merchant_id=scope.merchant_id, environment=scope.environment,
            customer_id=row.customer_id, amount=row.amount, remaining=row.amount,
            currency=row.currency, source=CustomerCredit.Source.PAYMENT, source_id=row.id,
            description=f"Payment {row.provider_payment_id} kept: its refund failed",
            created_at=at,
        )
        logger.error("unapplied payment %s (%s %s) could not be refunded (%s): held as "
                     "customer credit, needs attention", row.id, row.amount, row.currency,
                     row.failure_message)
        data = unapplied_event_data(row)
        emit_event(scope=scope, type="payment.needs_attention", data=data)
        _audit(scope, row, "payment.needs_attention", data)
        return row


def unapplied_event_data(row: UnappliedPayment) -> dict:
    """`data` of payment.refunded / payment.needs_attention for an unapplied payment."""
    return {"id": row.id, "invoiceId": None, "customerId": row.customer_id,
            "subscriptionId": None, "checkoutId": row.checkout_id, "amount": row.amount,
            "currency": row.currency, "gateway": row.gateway,
            "paymentAttemptId": row.charge_attempt_id, "providerPaymentId":
            row.provider_payment_id, "reason": row.reason, "status": row.status,
            "failureCode": row.failure_code or None, "failureMessage": row.failure_message or None}


def _audit(scope, row: UnappliedPayment, event: str, details: dict) -> None:
    audit_record(scope=scope, event=event, actor=SYSTEM, customer_id=row.customer_id,
                 resource_type="unapplied_payment", resource_id=row.id, details=details)


def unapplied_refunds_resume(*, older_than: timedelta = timedelta(minutes=5)) -> int:
    """Beat: send the refunds of unapplied payments a crash left unsent (those with an attempt
    are the gateways' sweeper's). Returns how many were sent."""
    rows = list(UnappliedPayment.objects.filter(status=Status.REFUNDING, refund_attempt_id="",
                                                updated_at__lt=wall_now() - older_than)
                .values_list("merchant_id", "environment", "id"))
    for merchant_id, environment, unapplied_id in rows:
        unapplied_refund_send(scope=Scope(merchant_id, environment), unapplied_id=unapplied_id)
    return len(rows)

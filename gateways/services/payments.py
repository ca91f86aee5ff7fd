"""Charge and refund flows (DESIGN.md, Concurrency): a gateway call never runs under a lock.

    attempt = charge_start(...)      # 1st transaction: a pending PaymentAttempt, committed
    outcome = charge_execute(attempt_id=attempt.id)   # gateway call, no transaction open;
                                     # then the 2nd transaction records the outcome

Each attempt carries its own idempotency key, sent to the gateway, so calling execute twice,
or the sweeper (`recovery.recover_pending_attempts`) re-sending an attempt a crash left pending,
never moves money twice. These services know nothing of invoices or subscriptions: they return
`PaymentAttemptResult` and billing decides what an outcome means.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.db.models import Sum

from cynco.crash_points import crash_point
from cynco.tenancy import Scope
from gateways import registry
from gateways.base import (
    ChargeRequest,
    GatewayRejected,
    GatewayUnavailable,
    RefundExceedsPayment,
    RefundRequest,
)
from gateways.models import PaymentAttempt, PaymentMethod
from gateways.outcomes import (
    ChargeNotRefundable,
    PaymentAttemptKeyReused,
    PaymentAttemptNotFound,
    PaymentAttemptResult,
    PaymentMethodNotFound,
    result_of,
)
from gateways.services.settlement import (
    note_gateway_call,
    refuse_inside_transaction,
    settle_attempt,
    settle_from_charge,
    settle_from_refund,
)

Status, Kind = PaymentAttempt.Status, PaymentAttempt.Kind
# Compared when an idempotency key comes back: the same key must mean the same request.
_IDENTITY_FIELDS = ("kind", "amount", "currency", "payment_method_id", "charge_id")


def _validate_money(amount: int, currency: str) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError("amount must be a positive integer of minor units")
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha()):
        raise ValueError("currency must be a three-letter ISO code")


def _create_once(scope: Scope, idempotency_key: str, fields: dict) -> PaymentAttempt:
    """A new pending attempt, or the one this key made before (same request only)."""
    if not isinstance(idempotency_key, str) or not 1 <= len(idempotency_key) <= 255:
        raise ValueError("idempotency_key must be 1-255 characters")
    try:
        with transaction.atomic():
            return PaymentAttempt.objects.create(
                merchant_id=scope.merchant_id, environment=scope.environment,
                idempotency_key=idempotency_key, **fields,
            )
    except IntegrityError:
        attempt = PaymentAttempt.objects.for_scope(scope).get(idempotency_key=idempotency_key)
    probe = PaymentAttempt(**fields)
    if any(getattr(attempt, name) != getattr(probe, name) for name in _IDENTITY_FIELDS):
        raise PaymentAttemptKeyReused(
            f"Idempotency key {idempotency_key!r} was used for a different payment attempt"
        )
    return attempt


def charge_start(
    *,
    scope: Scope,
    payment_method_id: str,
    amount: int,
    currency: str,
    idempotency_key: str,
    source_reference: str = "",
    description: str = "",
    metadata: Mapping[str, str] | None = None,
) -> PaymentAttemptResult:
    """Write a pending charge of a saved payment method and commit it; call no gateway.

    Takes no lock (the key's unique constraint settles races) and posts no ledger entry.
    The same key with the same request returns the first attempt, whatever its state; with a
    different request it raises PaymentAttemptKeyReused. Refuses to run inside a transaction.
    """
    refuse_inside_transaction("charge_start")
    _validate_money(amount, currency)
    method = PaymentMethod.objects.for_scope(scope).filter(
        pk=payment_method_id, status=PaymentMethod.Status.ACTIVE
    ).first()
    if method is None:
        raise PaymentMethodNotFound(payment_method_id)
    attempt = _create_once(scope, idempotency_key, {
        "kind": Kind.CHARGE, "amount": amount, "currency": currency.upper(),
        "payment_method": method, "gateway": method.gateway,
        "gateway_account_id": method.gateway_account_id,
        "customer_reference": method.customer_reference, "source_reference": source_reference,
        "description": description[:500], "metadata": dict(metadata or {}),
    })
    crash_point("charge.attempt_recorded")
    return result_of(attempt)


def _attempt(attempt_id: str, kind: str) -> PaymentAttempt:
    attempt = (
        PaymentAttempt.objects.select_related("payment_method", "charge")
        .filter(pk=attempt_id, kind=kind).first()
    )
    if attempt is None:
        raise PaymentAttemptNotFound(attempt_id)
    return attempt


def gateway_of(attempt: PaymentAttempt):
    return registry.gateway_used(
        name=attempt.gateway, merchant_id=attempt.merchant_id,
        environment=attempt.environment, account_id=attempt.gateway_account_id,
    )


def _send(attempt: PaymentAttempt, call, settle, via: str | None) -> PaymentAttemptResult:
    """Make one gateway call for `attempt` (no transaction open) and record what it answered."""
    note_gateway_call(attempt.id)
    try:
        answer = call(gateway_of(attempt))
    except GatewayUnavailable as exc:
        note_gateway_call(attempt.id, error=exc.message)
        return result_of(PaymentAttempt.objects.get(pk=attempt.id))
    except GatewayRejected as exc:
        return settle_attempt(attempt_id=attempt.id, status=Status.FAILED, failure_code=exc.code,
                              failure_message=exc.message, via=via)
    crash_point("charge.gateway_answered")
    return settle(attempt.id, answer, via=via)


def send_charge(attempt: PaymentAttempt, *, via: str | None = None) -> PaymentAttemptResult:
    """Call the gateway for a pending charge (no transaction open), then record its answer.

    A gateway that cannot be reached leaves the attempt pending (the outcome is unknown) for
    the sweeper; one that refuses the request settles it as failed.
    """
    return _send(attempt, lambda gateway: send_charge_request(gateway, attempt),
                 settle_from_charge, via)


def send_charge_request(gateway, attempt: PaymentAttempt):
    """The gateway call of a pending charge (its ChargeResult); no transaction may be open."""
    return gateway.charge(charge_request_of(attempt))


def charge_request_of(attempt: PaymentAttempt) -> ChargeRequest:
    """What the gateway is sent for a pending charge attempt (its payment_method loaded)."""
    return ChargeRequest(
        payment_method_token=attempt.payment_method.token, amount=attempt.amount,
        currency=attempt.currency, idempotency_key=attempt.idempotency_key,
        customer_reference=attempt.customer_reference, description=attempt.description,
        metadata={**attempt.metadata, "cynco_attempt": attempt.id},
    )


def charge_execute(*, attempt_id: str) -> PaymentAttemptResult:
    """Send a pending charge to its gateway with no database lock held, then record the outcome
    in a second transaction (row lock on the attempt only; no ledger entry).

    An attempt that is no longer pending is answered as it stands, without a gateway call.
    Status `requires_action` comes with `action_url` (3-D Secure); its final outcome arrives
    later by webhook or the sweeper, through settings.PAYMENT_ATTEMPT_HANDLERS.
    """
    refuse_inside_transaction("charge_execute")
    attempt = _attempt(attempt_id, Kind.CHARGE)
    if attempt.status != Status.PENDING:
        return result_of(attempt)
    return send_charge(attempt)


def refund_start(
    *,
    scope: Scope,
    charge_id: str,
    amount: int,
    idempotency_key: str,
    source_reference: str = "",
    description: str = "",
) -> PaymentAttemptResult:
    """Write a pending refund of a succeeded charge attempt and commit it; call no gateway.

    Takes a row lock on the charge attempt, so that concurrent refunds never add up to more
    than was paid (RefundExceedsPayment); posts no ledger entry. A replayed key answers the
    first refund attempt. Refuses to run inside a transaction.
    """
    refuse_inside_transaction("refund_start")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError("amount must be a positive integer of minor units")
    with transaction.atomic():
        charge = PaymentAttempt.objects.for_scope(scope).select_for_update().filter(
            pk=charge_id, kind=Kind.CHARGE
        ).first()
        if charge is None:
            raise PaymentAttemptNotFound(charge_id)
        fields = {
            "kind": Kind.REFUND, "amount": amount, "currency": charge.currency,
            "charge": charge, "gateway": charge.gateway,
            "gateway_account_id": charge.gateway_account_id,
            "customer_reference": charge.customer_reference,
            "source_reference": source_reference or charge.source_reference,
            "description": description[:500],
        }
        if PaymentAttempt.objects.for_scope(scope).filter(idempotency_key=idempotency_key).exists():
            return result_of(_create_once(scope, idempotency_key, fields))
        if charge.status != Status.SUCCEEDED:
            raise ChargeNotRefundable(f"Charge {charge.id} is {charge.status}")
        refunded = charge.refunds.exclude(
            status__in=(Status.FAILED, Status.CANCELED)
        ).aggregate(total=Sum("amount"))["total"] or 0
        if amount > charge.amount - refunded:
            raise RefundExceedsPayment(
                f"Refund of {amount} exceeds the {charge.amount - refunded} left of the charge"
            )
        return result_of(_create_once(scope, idempotency_key, fields))


def send_refund(attempt: PaymentAttempt, *, via: str | None = None) -> PaymentAttemptResult:
    """Call the gateway for a pending refund (no transaction open), then record its answer."""
    request = RefundRequest(
        provider_payment_id=attempt.charge.provider_payment_id, amount=attempt.amount,
        idempotency_key=attempt.idempotency_key, reason=attempt.description,
    )
    return _send(attempt, lambda gateway: gateway.refund(request), settle_from_refund, via)


def refund_execute(*, attempt_id: str) -> PaymentAttemptResult:
    """Send a pending refund to the gateway of its charge with no lock held, then record the
    outcome in a second transaction (row lock on the attempt only; no ledger entry)."""
    refuse_inside_transaction("refund_execute")
    attempt = _attempt(attempt_id, Kind.REFUND)
    if attempt.status != Status.PENDING:
        return result_of(attempt)
    return send_refund(attempt)

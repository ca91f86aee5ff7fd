"""Recording what a gateway answered about a payment attempt (the second transaction)."""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils.module_loading import import_string

from cynco import metrics
from cynco.clock import wall_now
from gateways.base import ChargeResult, PaymentStatusResult, RefundResult
from gateways.models import PaymentAttempt
from gateways.outcomes import AttemptInsideTransaction, PaymentAttemptResult, result_of

Status = PaymentAttempt.Status


def refuse_inside_transaction(flow: str) -> None:
    """Gateway flows commit their own transactions; inside a caller's they would hold its locks
    across a network call (DESIGN.md, Concurrency), so they refuse to run there."""
    if connection.in_atomic_block:
        raise AttemptInsideTransaction(
            f"{flow} must not run inside a transaction: commit first, then call it"
        )


def note_gateway_call(attempt_id: str, *, error: str = "") -> None:
    """Count a call to the gateway for this attempt (autocommit; also keeps the sweeper away)."""
    PaymentAttempt.objects.filter(pk=attempt_id).update(
        attempts_count=F("attempts_count") + (0 if error else 1),
        last_error=error[:500],
        updated_at=wall_now(),
    )


def notify_settled(result: PaymentAttemptResult, via: str) -> None:
    """Tell billing (settings.PAYMENT_ATTEMPT_HANDLERS) about an outcome it did not ask for."""
    for path in settings.PAYMENT_ATTEMPT_HANDLERS:
        import_string(path)(result=result, via=via)


def settle_attempt(
    *,
    attempt_id: str,
    status: str,
    provider_payment_id: str = "",
    provider_refund_id: str = "",
    failure_code: str = "",
    failure_message: str = "",
    action_url: str = "",
    via: str | None = None,
) -> PaymentAttemptResult:
    """Record an attempt's outcome, unless it is already final (a final outcome never changes).

    Takes a row lock on the attempt; posts no ledger entry (billing does, for outcomes it acts
    on). `via` ("webhook", "recovery") names an outcome learnt after the execute call returned:
    then the attempt handlers run in this same transaction, so billing's reaction and the
    settlement commit together (a handler that fails rolls both back, to be retried).
    """
    with transaction.atomic():
        attempt = PaymentAttempt.objects.select_for_update().get(pk=attempt_id)
        changed = record_outcome(
            attempt, status=status, provider_payment_id=provider_payment_id,
            provider_refund_id=provider_refund_id, failure_code=failure_code,
            failure_message=failure_message, action_url=action_url,
        )
        attempt.save()
        result = result_of(attempt)
        if via and changed:
            notify_settled(result, via)
    return result


SETTLED_FIELDS = ["status", "provider_payment_id", "provider_refund_id", "failure_code",
                  "failure_message", "action_url", "last_error", "settled_at", "updated_at"]


def record_outcome(attempt: PaymentAttempt, *, status: str, provider_payment_id: str = "",
                   provider_refund_id: str = "", failure_code: str = "",
                   failure_message: str = "", action_url: str = "") -> bool:
    """Apply an outcome to a row-locked `attempt` in memory (SETTLED_FIELDS; the caller saves
    it): a final outcome never changes. Returns whether its status changed."""
    unchanged = attempt.is_final or status == Status.PENDING or (
        status == attempt.status == Status.REQUIRES_ACTION
    )
    attempt.provider_payment_id = provider_payment_id or attempt.provider_payment_id
    attempt.provider_refund_id = provider_refund_id or attempt.provider_refund_id
    attempt.updated_at = wall_now()
    if not unchanged:
        attempt.status = status
        attempt.failure_code = failure_code[:64]
        attempt.failure_message = failure_message[:500]
        attempt.action_url = action_url
        attempt.last_error = ""
        if attempt.is_final:
            attempt.settled_at = wall_now()
        metrics.payment_attempt_settled(attempt)
    return not unchanged


def settle_from_charge(attempt_id: str, answer: ChargeResult, *, via: str | None = None
                       ) -> PaymentAttemptResult:
    return settle_attempt(
        attempt_id=attempt_id, status=str(answer.status),
        provider_payment_id=answer.provider_payment_id, failure_code=answer.failure_code,
        failure_message=answer.failure_message, action_url=answer.action_url, via=via,
    )


def settle_from_refund(attempt_id: str, answer: RefundResult, *, via: str | None = None
                       ) -> PaymentAttemptResult:
    status = {"succeeded": Status.SUCCEEDED, "failed": Status.FAILED}.get(
        str(answer.status), Status.PENDING
    )
    return settle_attempt(
        attempt_id=attempt_id, status=status, provider_refund_id=answer.provider_refund_id,
        failure_code=answer.failure_code, failure_message=answer.failure_message, via=via,
    )


def settle_from_status(attempt_id: str, answer: PaymentStatusResult, *, via: str
                       ) -> PaymentAttemptResult:
    status = {"succeeded": Status.SUCCEEDED, "failed": Status.FAILED,
              "requires_action": Status.REQUIRES_ACTION}.get(str(answer.state), Status.PENDING)
    return settle_attempt(
        attempt_id=attempt_id, status=status,
        provider_payment_id=answer.provider_payment_id or "", failure_code=answer.failure_code,
        failure_message=answer.failure_message, action_url=answer.action_url, via=via,
    )

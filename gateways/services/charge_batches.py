"""Many off-session charges at once, for batch jobs (the period-end renewals), with the rules
of `gateways.services.payments`, in three steps:

    charges_prepare(...)        # inside the caller's transaction: pending attempts, written
                                # with the invoices they pay; nothing is sent yet
    charges_execute_many(...)   # after commit, no transaction open: one gateway call per
                                # attempt, then every outcome recorded in one transaction

Each gateway answers the batch's requests through `charge_many(requests)`, each answered as
`charge` answers it (a ChargeResult, or the GatewayError it raises): the sandbox in one call;
real providers have no such call, and the protocol's default sends one `charge` per attempt.

A pending attempt is committed before its gateway call, each carries its own idempotency key,
and a crash between the steps leaves attempts pending for the sweeper (gateways.services.
recovery), which sends them with the same key: money moves at most once.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F

from cynco.bulk import update_rows
from cynco.clock import wall_now
from cynco.tenancy import Scope
from gateways.base import GatewayError, GatewayRejected, GatewayUnavailable
from gateways.models import PaymentAttempt, PaymentMethod
from gateways.outcomes import PaymentAttemptResult, result_of
from gateways.services.payments import (
    _validate_money,
    charge_request_of,
    gateway_of,
)
from gateways.services.settlement import (
    SETTLED_FIELDS,
    record_outcome,
    refuse_inside_transaction,
)

Status, Kind = PaymentAttempt.Status, PaymentAttempt.Kind


@dataclass(frozen=True)
class ChargeDraft:
    """A charge to prepare: `customer_reference`'s default card, for `source_reference`."""

    customer_reference: str
    amount: int
    currency: str
    idempotency_key: str
    source_reference: str
    description: str = ""


def default_methods(*, scope: Scope, customer_references) -> dict[str, PaymentMethod]:
    """Each customer's default active payment method (as `selectors.default_payment_method`
    picks it: the default first, then the newest), in one query."""
    methods: dict[str, PaymentMethod] = {}
    rows = PaymentMethod.objects.for_scope(scope).filter(
        customer_reference__in=set(customer_references), status=PaymentMethod.Status.ACTIVE
    ).order_by("customer_reference", "-is_default", "-created_at")
    for method in rows:
        methods.setdefault(method.customer_reference, method)
    return methods


def charges_prepare(*, scope: Scope, drafts: list[ChargeDraft]) -> dict[str, PaymentAttempt]:
    """Write a pending charge attempt of each draft's customer's default card, in the caller's
    transaction (so the attempt commits with what it pays for); call no gateway. Returns the
    attempts by source reference; a customer without a saved card gets none. Keys must be new
    (a reused key raises IntegrityError: the caller falls back to `charge_start` one by one).
    Takes no lock and posts no ledger entry."""
    methods = default_methods(scope=scope, customer_references=[d.customer_reference
                                                                for d in drafts])
    attempts = []
    for draft in drafts:
        _validate_money(draft.amount, draft.currency)
        method = methods.get(draft.customer_reference)
        if method is None:
            continue
        attempts.append(PaymentAttempt(
            merchant_id=scope.merchant_id, environment=scope.environment,
            idempotency_key=draft.idempotency_key, kind=Kind.CHARGE, amount=draft.amount,
            currency=draft.currency.upper(), payment_method=method, gateway=method.gateway,
            gateway_account_id=method.gateway_account_id,
            customer_reference=method.customer_reference,
            source_reference=draft.source_reference, description=draft.description[:500],
            metadata={},
        ))
    PaymentAttempt.objects.bulk_create(attempts)
    return {attempt.source_reference: attempt for attempt in attempts}


def charges_execute_many(*, attempt_ids: list[str]) -> dict[str, PaymentAttemptResult]:
    """`charge_execute` for many attempts: with no transaction open, one `charge_many` per
    gateway and account (one call for the sandbox; one per attempt elsewhere; the calls are
    counted first,
    in one statement, which also keeps the sweeper away), then every answer recorded in one
    transaction (row locks on the attempts only, no ledger entry). An unreachable gateway
    leaves its attempt pending for the sweeper; an attempt no longer pending is answered as
    it stands. Returns results by attempt id."""
    refuse_inside_transaction("charges_execute_many")
    attempts = list(PaymentAttempt.objects.select_related("payment_method").filter(
        pk__in=attempt_ids, kind=Kind.CHARGE))
    pending = [attempt for attempt in attempts if attempt.status == Status.PENDING]
    results = {attempt.id: result_of(attempt) for attempt in attempts}
    PaymentAttempt.objects.filter(pk__in=[a.id for a in pending]).update(
        attempts_count=F("attempts_count") + 1, last_error="", updated_at=wall_now())
    answers, unreachable = {}, {}
    for attempt, answer in _charge_answers(pending):
        if isinstance(answer, GatewayUnavailable):
            unreachable[attempt.id] = answer.message[:500]
        elif isinstance(answer, GatewayRejected):
            answers[attempt.id] = {"status": Status.FAILED, "failure_code": answer.code,
                                   "failure_message": answer.message}
        else:
            answers[attempt.id] = {
                "status": str(answer.status), "failure_code": answer.failure_code,
                "provider_payment_id": answer.provider_payment_id,
                "failure_message": answer.failure_message, "action_url": answer.action_url}
    for attempt_id, error in unreachable.items():
        PaymentAttempt.objects.filter(pk=attempt_id).update(last_error=error,
                                                            updated_at=wall_now())
    with transaction.atomic():
        locked = list(PaymentAttempt.objects.select_for_update().filter(
            pk__in=list(answers)).order_by("pk"))
        for attempt in locked:
            record_outcome(attempt, **answers[attempt.id])
        update_rows(locked, SETTLED_FIELDS)
    results.update((attempt.id, result_of(attempt)) for attempt in locked)
    return results


def _charge_answers(attempts: list[PaymentAttempt]):
    """(attempt, ChargeResult or the GatewayError raised) for each pending attempt: one
    `charge_many` call per gateway and account (the sandbox's: a few statements for the whole
    batch; the others': one `charge` per attempt, each answer the same as `charge`'s)."""
    groups: dict[tuple, list[PaymentAttempt]] = {}
    for attempt in attempts:
        groups.setdefault((attempt.gateway, attempt.gateway_account_id, attempt.merchant_id,
                           attempt.environment), []).append(attempt)
    for group in groups.values():
        gateway = gateway_of(group[0])
        try:
            answers = gateway.charge_many([charge_request_of(attempt) for attempt in group])
        except (GatewayUnavailable, GatewayRejected) as exc:  # the whole call failed
            answers = [exc] * len(group)
        for attempt, answer in zip(group, answers, strict=True):
            if isinstance(answer, GatewayError) and not isinstance(
                    answer, (GatewayUnavailable, GatewayRejected)):
                raise answer
            yield attempt, answer

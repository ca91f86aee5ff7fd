"""The sweeper: settles payment attempts that a crash (or a lost webhook) left unsettled.

A process can die between `charge_start` and `charge_execute`, or during the gateway call,
leaving an attempt `pending` with no one to finish it. Every minute (cynco/celery.py) the
sweeper takes attempts untouched for `older_than` and asks their gateway:

* charge, known to the gateway → record what it says (succeeded, failed, requires action);
* charge, never received → send it now with its own idempotency key (the customer's intent was
  recorded), unless older than GATEWAY_PENDING_MAX_AGE_HOURS: then cancel it, too late to charge;
* refund → re-send it with its own key (the gateway answers the first result, or refunds once);
* `requires_action` charge → ask whether the customer completed 3-D Secure (webhook lost).

Attempts are claimed with `FOR UPDATE SKIP LOCKED` and their `updated_at` bumped, so several
sweepers share the work and no gateway call happens under a lock. Outcomes go to billing
through settings.PAYMENT_ATTEMPT_HANDLERS (via "recovery").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from cynco.clock import wall_now
from gateways.base import GatewayError, PaymentLookup, PaymentState
from gateways.models import PaymentAttempt
from gateways.outcomes import PaymentAttemptResult, result_of
from gateways.services.payments import gateway_of, send_charge, send_refund
from gateways.services.settlement import (
    note_gateway_call,
    refuse_inside_transaction,
    settle_attempt,
    settle_from_status,
)

logger = logging.getLogger(__name__)
Status, Kind = PaymentAttempt.Status, PaymentAttempt.Kind
VIA = "recovery"
NOT_SENT = "not_sent"


@dataclass(frozen=True)
class RecoveryReport:
    checked: int
    settled: int
    still_pending: int


def _claim(*, older_than: timedelta, limit: int) -> list[str]:
    """Ids of stale attempts, claimed by bumping `updated_at` (skipping rows others hold)."""
    cutoff = wall_now() - older_than
    with transaction.atomic():
        ids = list(
            PaymentAttempt.objects.select_for_update(skip_locked=True)
            .filter(Q(status=Status.PENDING) | Q(status=Status.REQUIRES_ACTION,
                                                   kind=Kind.CHARGE),
                    updated_at__lt=cutoff)
            .exclude(status=Status.REQUIRES_ACTION, provider_payment_id="")
            .order_by("updated_at")
            .values_list("id", flat=True)[:limit]
        )
        PaymentAttempt.objects.filter(pk__in=ids).update(updated_at=wall_now())
    return ids


def recover_attempt(attempt_id: str) -> str:
    """Ask the gateway about one stale attempt and settle it if it can; its status after."""
    attempt = PaymentAttempt.objects.select_related("payment_method", "charge").get(pk=attempt_id)
    if attempt.is_final:
        return attempt.status
    if attempt.kind == Kind.REFUND:
        return send_refund(attempt, via=VIA).status if attempt.status == Status.PENDING \
            else attempt.status
    try:
        answer = gateway_of(attempt).fetch_payment(PaymentLookup(
            idempotency_key=attempt.idempotency_key,
            provider_payment_id=attempt.provider_payment_id or None,
        ))
    except GatewayError as exc:
        note_gateway_call(attempt.id, error=exc.message)
        return attempt.status
    if answer.state == PaymentState.NOT_FOUND and attempt.status == Status.PENDING:
        max_age = timedelta(hours=settings.GATEWAY_PENDING_MAX_AGE_HOURS)
        if wall_now() - attempt.created_at > max_age:
            return settle_attempt(
                attempt_id=attempt.id, status=Status.CANCELED, failure_code=NOT_SENT,
                failure_message="Never reached the gateway; too old to send", via=VIA,
            ).status
        return send_charge(attempt, via=VIA).status
    return settle_from_status(attempt.id, answer, via=VIA).status


def attempt_refresh_after_action(*, gateway: str, provider_payment_id: str
                                 ) -> PaymentAttemptResult | None:
    """The customer came back from 3-D Secure for an off-session charge (our Stripe page): ask
    the gateway now, as the sweeper would later, and settle the attempt (billing hears of it
    through PAYMENT_ATTEMPT_HANDLERS). None when no charge of ours has that payment id. No
    transaction may be open; takes no lock of its own."""
    attempt = PaymentAttempt.objects.filter(
        gateway=gateway, kind=Kind.CHARGE, provider_payment_id=provider_payment_id).first()
    if attempt is None:
        return None
    if attempt.status == Status.REQUIRES_ACTION:
        recover_attempt(attempt.id)
        attempt.refresh_from_db()
    return result_of(attempt)


def recover_pending_attempts(*, older_than: timedelta, limit: int = 200) -> RecoveryReport:
    """Settle the attempts left pending (or awaiting 3-D Secure) for longer than `older_than`.

    Takes row locks only to claim (SKIP LOCKED), calls gateways with no transaction open, and
    settles each attempt in its own transaction; posts no ledger entry (billing's handlers do).
    """
    refuse_inside_transaction("recover_pending_attempts")
    ids = _claim(older_than=older_than, limit=limit)
    settled = still_pending = 0
    for attempt_id in ids:
        try:
            status = recover_attempt(attempt_id)
        except Exception:  # one bad attempt must not stop the sweep
            logger.exception("recovering payment attempt %s failed", attempt_id)
            status = Status.PENDING
        if status in PaymentAttempt.FINAL:
            settled += 1
        else:
            still_pending += 1
    return RecoveryReport(checked=len(ids), settled=settled, still_pending=still_pending)

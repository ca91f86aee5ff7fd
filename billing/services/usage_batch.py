"""track for a batch of events (API.md, POST /track/batch; docs/entitlements.md, Batch
ingestion).

The rules are track's own, in one place: the SQL function `billing_usage_track_batch`
(migration billing 0012), which the one-statement single track calls too as a batch of one.
It takes every customer's lock in the order of their lock keys, reads the customers, features,
balances and idempotency keys of the whole batch in one statement, decides each event in the
batch's order, and writes with one UPDATE of the balances and one INSERT of the events.

What it leaves to the full path (a balance to create, a period or a reservation to settle, a
threshold crossed: a webhook event to emit) it answers `fallback`, and the customer's later
events `pending`. Those fallbacks run through billing.services.usage.usage_track, one by one,
then the pending events go back to the function: a round per fallback of the same customer,
which is rare (twice a period per balance, for the thresholds).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import OperationalError, connection, transaction

from billing.entitlement_rules import Standing
from billing.models.entitlements import new_usage_event_ids
from billing.services.usage import Answer, metadata_jsonb, usage_track
from billing.services.usage_fast_path import track_answer
from cynco import clock
from cynco.errors import (
    ApiError, ConcurrentRequest, CustomerNotFound, FeatureNotFound, ValidationFailed,
)
from cynco.tenancy import Scope

MAX_EVENTS = 1000
_SQL = ("SELECT * FROM billing_usage_track_batch(%s, %s, %s, %s::text[], %s::text[], "
        "%s::text[], %s::numeric[], %s::text[], %s::jsonb[], %s::text[], %s)")
# A lock busy too long, or PostgreSQL's shared lock table full (many batches of many
# customers at once: docs/entitlements.md, Batch ingestion): retry later.
_RETRY_LATER = ("55P03", "53200")


@dataclass(frozen=True)
class TrackEvent:
    """One event of a batch, validated as /track validates its body."""

    customer: str
    feature: str
    amount: Decimal = Decimal(1)
    entity_key: str = ""
    idempotency_key: str | None = None
    metadata: dict | None = None


def _refusal(outcome: str, event: TrackEvent) -> ApiError | None:
    """The error /track answers for an event the function refused (as usage_target and
    usage_track raise them)."""
    if outcome == "no_customer":
        return CustomerNotFound(f"No customer '{event.customer}'")
    if outcome == "no_feature":
        return FeatureNotFound(f"No feature '{event.feature}'")
    if outcome == "boolean":
        return ValidationFailed.field("feature", "A boolean feature cannot be tracked.")
    return None


def usage_track_batch(*, scope: Scope, events: list[TrackEvent]) -> list[Answer | ApiError]:
    """Record `events` (at most MAX_EVENTS) as that many tracks in the order given, and answer
    each: its track Answer, or the ApiError /track would have answered for it.

    One transaction: it takes lock_customer of every customer of the batch, in the order of
    their lock keys (so concurrent batches never deadlock), before it reads anything. Raises
    ConcurrentRequest (429, nothing written) when a lock stays busy for
    CUSTOMER_LOCK_WAIT_SECONDS or PostgreSQL's lock table is full. No ledger entry; thresholds
    crossed emit their webhook events through the full path.
    """
    answers: list[Answer | ApiError | None] = [None] * len(events)
    todo = list(range(len(events)))
    with transaction.atomic():
        while todo:
            later, full = [], []
            for index, row in zip(todo, _run(scope, [events[i] for i in todo])):
                outcome, terms = row[1], row[2:]
                if outcome == "pending":
                    later.append(index)
                elif outcome == "fallback":
                    full.append(index)
                else:
                    answers[index] = _refusal(outcome, events[index]) or track_answer(
                        outcome, Standing(*terms))
            for index in full:
                answers[index] = _full_path(scope, events[index])
            todo = later
    return answers


def _full_path(scope: Scope, event: TrackEvent) -> Answer | ApiError:
    try:
        return usage_track(
            scope=scope, customer=event.customer, feature=event.feature, amount=event.amount,
            entity_key=event.entity_key, idempotency_key=event.idempotency_key,
            metadata=event.metadata,
        )
    except ApiError as error:
        return error


def _run(scope: Scope, events: list[TrackEvent]) -> list[tuple]:
    """One call of the function: its rows, in the order of `events`."""
    params = [
        scope.merchant_id, scope.environment, clock.now(scope),
        [event.customer for event in events], [event.feature for event in events],
        [event.entity_key for event in events], [event.amount for event in events],
        [event.idempotency_key for event in events],
        [metadata_jsonb(event.metadata) for event in events],
        new_usage_event_ids(len(events)),
        f"{int(settings.CUSTOMER_LOCK_WAIT_SECONDS * 1000)}ms",
    ]
    try:
        with connection.cursor() as cursor:
            cursor.execute(_SQL, params)
            return cursor.fetchall()
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) in _RETRY_LATER:
            raise ConcurrentRequest() from exc
        raise

"""Outgoing webhooks, the delivering side: claim due deliveries, POST them, record each attempt.

Several workers may run `webhook_deliveries_run_due` at once (the minutely beat job, the task
queued by `emit_event`, more workers). Each claims a batch with `SELECT … FOR UPDATE SKIP
LOCKED` and, in that same short transaction, moves the rows' `next_attempt_at` forward by a
lease, then commits: the rows are now invisible to other workers, and no database lock is held
while the HTTP calls run. Each outcome is recorded in a second short transaction.

Timing here is the wall clock (one schedule for every merchant), passed in as `now` so tests
can drive retries without sleeping; an event's `created` is its environment's business time.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.db import transaction

from billing.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from billing import webhook_addresses
from billing.webhook_retries import gives_up, retry_delay
from billing.webhook_signatures import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    sign,
)
from cynco.clock import wall_now

logger = logging.getLogger(__name__)

RESPONSE_BODY_LIMIT = 2000  # characters of the endpoint's answer kept with an attempt
ERROR_LIMIT = 1000
MAX_BATCHES_PER_RUN = 20
USER_AGENT = "Cynco-Billing-Webhooks/1.0"


def lease() -> timedelta:
    """How long a claimed delivery stays hidden from other workers: well past one POST."""
    return timedelta(seconds=max(60.0, 6 * settings.WEBHOOK_TIMEOUT_SECONDS))


@dataclass(frozen=True)
class PostResult:
    response_code: int | None
    latency_ms: int
    error: str
    response_body: str

    @property
    def succeeded(self) -> bool:
        return self.response_code is not None and 200 <= self.response_code < 300


def post_event(*, url: str, body: bytes, secret: str, event_id: str, event_type: str) -> PostResult:
    """POST one signed body to `url` and report what happened (never raises for HTTP trouble).

    Redirects are not followed (a 3xx is a failure); only the first part of the answer is read.
    """
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(body, secret),
        EVENT_ID_HEADER: event_id,
        EVENT_TYPE_HEADER: event_type,
    }
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    started = time.monotonic()
    code, error, answer = None, "", ""
    try:
        with requests.post(
            url, data=body, headers=headers, timeout=timeout, allow_redirects=False, stream=True
        ) as response:
            code = response.status_code
            raw = response.raw.read(RESPONSE_BODY_LIMIT * 4, decode_content=True) or b""
            answer = raw.decode("utf-8", errors="replace")[:RESPONSE_BODY_LIMIT]
            if not 200 <= code < 300:
                error = f"HTTP {code}"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:ERROR_LIMIT]
    latency_ms = int((time.monotonic() - started) * 1000)
    return PostResult(code, latency_ms, error, answer)


def webhook_deliveries_run_due(
    *, now: datetime | None = None, event_id: str | None = None, batch_size: int | None = None
) -> int:
    """Attempt every delivery due at `now` (default: the wall clock), batch by batch.

    `event_id` limits the run to one event's deliveries (the task queued on emit). Returns how
    many attempts were made. Takes row locks only while claiming (SKIP LOCKED) and recording,
    never during a POST; posts no ledger entry.
    """
    now = now or wall_now()
    batch_size = batch_size or settings.WEBHOOK_BATCH_SIZE
    started = time.monotonic()

    def current_time() -> datetime:  # `now` moved on by the time this run has taken
        return now + timedelta(seconds=time.monotonic() - started)

    attempts = 0
    for _ in range(MAX_BATCHES_PER_RUN):
        claimed = claim_due(now=current_time(), event_id=event_id, batch_size=batch_size)
        for delivery_id in claimed:
            attempts += attempt_delivery(delivery_id=delivery_id, clock=current_time)
        if len(claimed) < batch_size:
            break
    return attempts


def claim_due(*, now: datetime, event_id: str | None, batch_size: int) -> list[str]:
    """Ids of up to `batch_size` due deliveries, leased to the caller (committed on return)."""
    with transaction.atomic():
        due = WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
        )
        if event_id is not None:
            due = due.filter(event_id=event_id)
        ids = list(
            due.order_by("next_attempt_at")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:batch_size]
        )
        if ids:
            WebhookDelivery.objects.filter(id__in=ids).update(next_attempt_at=now + lease())
    return ids


def attempt_delivery(*, delivery_id: str, clock) -> int:
    """POST a claimed delivery once and record the outcome. Returns 1 if it was attempted, 0 if
    its endpoint is no longer active (the delivery is then canceled)."""
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if endpoint.status != WebhookEndpoint.Status.ACTIVE:
        WebhookDelivery.objects.filter(
            pk=delivery_id, status=WebhookDelivery.Status.PENDING
        ).update(status=WebhookDelivery.Status.CANCELED, next_attempt_at=None)
        return 0
    attempted_at = clock()
    refused = webhook_addresses.refusal(endpoint.url, endpoint.environment, unresolved_ok=True)
    if refused:  # nothing is sent; the attempt fails like an unreachable endpoint
        result = PostResult(None, 0, f"Not sent: {refused}"[:ERROR_LIMIT], "")
    else:
        result = post_event(
            url=endpoint.url,
            body=delivery.event.payload.encode("utf-8"),
            secret=endpoint.secret,
            event_id=delivery.event_id,
            event_type=delivery.event.type,
        )
    record_attempt(delivery_id=delivery_id, result=result, attempted_at=attempted_at, at=clock())
    return 1


def record_attempt(
    *, delivery_id: str, result: PostResult, attempted_at: datetime, at: datetime
) -> WebhookAttempt:
    """Store one attempt and move the delivery on: delivered on 2xx, else retried with backoff
    until its retry window (WEBHOOK_RETRY_HOURS) is over, then failed. Locks the delivery row."""
    window = timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        delivery.attempt_count += 1
        attempt = WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempt_count,
            outcome=(
                WebhookAttempt.Outcome.SUCCEEDED
                if result.succeeded
                else WebhookAttempt.Outcome.FAILED
            ),
            response_code=result.response_code,
            latency_ms=result.latency_ms,
            error=result.error,
            response_body=result.response_body,
            attempted_at=attempted_at,
        )
        delivery.last_response_code = result.response_code
        if result.succeeded:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = at
            delivery.next_attempt_at = None
        elif delivery.status == WebhookDelivery.Status.PENDING:
            if gives_up(retry_from=delivery.retry_from, failed_at=at, window=window):
                delivery.status = WebhookDelivery.Status.FAILED
                delivery.next_attempt_at = None
            else:
                failures = delivery.attempts.filter(attempted_at__gte=delivery.retry_from).count()
                delivery.next_attempt_at = at + retry_delay(
                    max(failures, 1), random_fraction=random.random()
                )
        delivery.save()
    return attempt


def webhook_deliveries_resend(*, delivery_ids: list[str], now: datetime | None = None) -> int:
    """Queue deliveries again (the admin's "resend"): pending now, with a fresh retry window.

    Deliveries whose endpoint is no longer active are left alone. Returns how many were queued.
    Locks the delivery rows; posts no ledger entry.
    """
    from billing.services.webhooks import queue_event_delivery

    now = now or wall_now()
    with transaction.atomic():
        rows = WebhookDelivery.objects.select_for_update(of=("self",)).filter(
            id__in=delivery_ids, endpoint__status=WebhookEndpoint.Status.ACTIVE
        )
        event_ids = sorted(set(rows.values_list("event_id", flat=True)))
        queued = rows.update(
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at=now,
            retry_from=now,
            delivered_at=None,
        )
        for event_id in event_ids:
            transaction.on_commit(lambda event_id=event_id: queue_event_delivery(event_id),
                                  robust=True)
    return queued

"""Incoming gateway webhooks, after dj-stripe: store raw first, dedupe by event id, then process.

`webhook_receive` verifies the signature, stores the body exactly as received and answers; a
replay of an event already stored (same gateway, same provider event id) is recognised and not
processed again, even when both copies arrive at once. Processing happens in a task
(`gateways.tasks.process_webhook_event`), so a crash never loses an event: an unprocessed row
is picked up again by the beat job or the admin's "reprocess" action.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils.module_loading import import_string

from cynco.clock import wall_now
from cynco.models import Merchant
from cynco.tenancy import Scope
from gateways import registry
from gateways.base import EventType, GatewayEvent, SavedPaymentMethod, WebhookVerificationError
from gateways.models import PaymentAttempt, WebhookEvent
from gateways.outcomes import result_of
from gateways.services.settlement import settle_attempt

logger = logging.getLogger(__name__)
Status = PaymentAttempt.Status
# Headers that are never worth keeping (credentials of whatever proxy sits in front).
_DROPPED_HEADERS = {"authorization", "cookie", "proxy-authorization"}
_SETTLES = {
    EventType.PAYMENT_SUCCEEDED: Status.SUCCEEDED,
    EventType.PAYMENT_FAILED: Status.FAILED,
    EventType.PAYMENT_REQUIRES_ACTION: Status.REQUIRES_ACTION,
    EventType.REFUND_SUCCEEDED: Status.SUCCEEDED,
    EventType.REFUND_FAILED: Status.FAILED,
}


@dataclass(frozen=True)
class WebhookReceipt:
    webhook_event_id: str
    verified: bool
    duplicate: bool
    error: str = ""


def event_to_json(event: GatewayEvent) -> dict:
    return dataclasses.asdict(event)


def event_from_json(data: dict) -> GatewayEvent:
    method = data.get("payment_method")
    return GatewayEvent(**{
        **data,
        "type": EventType(data["type"]),
        "payment_method": SavedPaymentMethod(**method) if method else None,
    })


def webhook_receive(*, gateway: str, headers: Mapping[str, str], body: bytes,
                    account_id: str | None = None) -> WebhookReceipt:
    """Verify and store one incoming webhook, then enqueue its processing after commit.

    One transaction, no lock: the insert is `ON CONFLICT DO NOTHING` on (gateway, provider
    event id), so of two copies arriving together exactly one is stored and processed. An event
    whose signature fails is stored unverified (no event id) and never processed. Raises
    UnknownGateway for a gateway or account that does not exist.
    """
    verifier = registry.gateway_for_webhook(gateway, account_id)
    kept_headers = {
        str(name).lower(): str(value) for name, value in headers.items()
        if str(name).lower() not in _DROPPED_HEADERS
    }
    row = WebhookEvent(gateway=gateway, gateway_account_id=account_id, body=bytes(body),
                       headers=kept_headers)
    if verifier.context.merchant_id:
        row.merchant_id, row.environment = verifier.context.merchant_id, verifier.context.environment
    try:
        event = verifier.parse_webhook(headers=kept_headers, body=bytes(body))
    except WebhookVerificationError as exc:
        row.processing_error = exc.message
        row.save()
        logger.warning("unverified %s webhook stored as %s: %s", gateway, row.id, exc.message)
        return WebhookReceipt(webhook_event_id=row.id, verified=False, duplicate=False,
                              error=exc.message)
    row.verified = True
    row.provider_event_id = event.provider_event_id
    row.event_type = event.type.value if event.type != EventType.OTHER else event.raw_type[:64]
    row.event = event_to_json(event)
    with transaction.atomic():
        WebhookEvent.objects.bulk_create([row], ignore_conflicts=True)
        stored_id = WebhookEvent.objects.filter(
            gateway=gateway, provider_event_id=event.provider_event_id
        ).values_list("id", flat=True).get()
        duplicate = stored_id != row.id
        if not duplicate:
            from gateways.tasks import process_webhook_event

            transaction.on_commit(lambda: process_webhook_event.delay(stored_id))
    return WebhookReceipt(webhook_event_id=stored_id, verified=True, duplicate=duplicate)


def _attempt_of(row: WebhookEvent, event: GatewayEvent) -> PaymentAttempt | None:
    """The attempt an event is about, made on the same gateway account the event came from
    (an operator's account can never settle another merchant's attempt)."""
    attempts = PaymentAttempt.objects.filter(
        gateway=row.gateway, gateway_account_id=row.gateway_account_id
    )
    if event.type in (EventType.REFUND_SUCCEEDED, EventType.REFUND_FAILED):
        if event.provider_refund_id:
            found = attempts.filter(kind="refund", provider_refund_id=event.provider_refund_id)
            return found.first()
        return None
    if event.provider_payment_id:
        found = attempts.filter(kind="charge", provider_payment_id=event.provider_payment_id).first()
        if found is not None:
            return found
    attempt_id = (event.metadata or {}).get("cynco_attempt")
    return attempts.filter(pk=attempt_id).first() if attempt_id else None


def _scope_of(row: WebhookEvent, event: GatewayEvent, attempt: PaymentAttempt | None
              ) -> Scope | None:
    if attempt is not None:
        return Scope(attempt.merchant_id, attempt.environment)
    if row.merchant_id:
        return Scope(row.merchant_id, row.environment)
    # Only trusted from the server's own accounts (an operator account's row has its merchant).
    if (event.merchant_id and event.environment in ("live", "test")
            and Merchant.objects.filter(pk=event.merchant_id).exists()):
        return Scope(event.merchant_id, event.environment)
    return None


def webhook_process(*, webhook_event_id: str) -> bool:
    """Apply one stored, verified event: settle the attempt it is about and hand the event to
    settings.GATEWAY_EVENT_HANDLERS. True when it was processed now (False: already done,
    unverified, or being processed by another worker).

    One transaction with a row lock on the event (and on the attempt it settles); the handlers
    run inside it, so a failing handler leaves the event unprocessed, its error recorded.
    """
    try:
        with transaction.atomic():
            row = WebhookEvent.objects.select_for_update(skip_locked=True).filter(
                pk=webhook_event_id
            ).first()
            if row is None or row.processed_at or not row.verified:
                return False
            event = event_from_json(row.event)
            attempt = _attempt_of(row, event)
            result = None
            if attempt is not None and event.type in _SETTLES:
                result = settle_attempt(
                    attempt_id=attempt.id, status=_SETTLES[event.type],
                    provider_payment_id=event.provider_payment_id or "",
                    provider_refund_id=event.provider_refund_id or "",
                    failure_code=event.failure_code, failure_message=event.failure_message,
                    action_url=event.action_url, via="webhook",
                )
            elif attempt is not None:
                result = result_of(attempt)
            scope = _scope_of(row, event, attempt)
            for path in settings.GATEWAY_EVENT_HANDLERS:
                import_string(path)(event=event, scope=scope, attempt=result)
            if scope is not None and not row.merchant_id:
                row.merchant_id, row.environment = scope.merchant_id, scope.environment
            row.processed_at = wall_now()
            row.processing_error = ""
            row.processing_attempts += 1
            row.save()
        return True
    except Exception as exc:
        logger.exception("processing webhook event %s failed", webhook_event_id)
        WebhookEvent.objects.filter(pk=webhook_event_id).update(
            processing_error=f"{type(exc).__name__}: {exc}"[:2000],
            processing_attempts=F("processing_attempts") + 1,
        )
        raise


def unprocessed_webhook_events(*, older_than: timedelta, max_attempts: int = 10,
                               limit: int = 200) -> list[str]:
    """Verified events still unprocessed after `older_than` (their task was lost or failed)."""
    return list(
        WebhookEvent.objects.filter(
            verified=True, processed_at__isnull=True,
            received_at__lt=wall_now() - older_than, processing_attempts__lt=max_attempts,
        ).order_by("received_at").values_list("id", flat=True)[:limit]
    )

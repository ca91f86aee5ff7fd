"""Outgoing webhooks, the writing side: endpoints, and `emit_event`, the outbox every service
calls when something a merchant may want to hear about happens.

Delivery itself (claiming due deliveries, POSTing, retrying) is in `webhook_deliveries`.
"""

from __future__ import annotations

import json
import logging
from functools import partial

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from rest_framework.utils.encoders import JSONEncoder

from billing.models import (
    EVENT_TYPES,
    OutgoingEvent,
    WebhookDelivery,
    WebhookEndpoint,
)
from billing.models.webhooks import URL_MAX_LENGTH
from billing.services.audit import Actor, audit_record
from billing.services.billing_emails import emails_queue_for_events
from billing import webhook_addresses
from billing.webhook_signatures import new_secret
from cynco import clock
from cynco.errors import NotFound, ValidationFailed
from cynco.fields import HTTP_URL_VALIDATOR
from cynco.tenancy import Scope

logger = logging.getLogger(__name__)

_url_validator = HTTP_URL_VALIDATOR  # the API's one URL rule (cynco.fields)


def clean_endpoint_url(url: str, environment: str) -> str:
    """The URL, stripped, if `environment`'s webhooks may go there (an absolute http(s) URL
    and, under WEBHOOK_PRIVATE_ADDRESSES, not a private address: billing.webhook_addresses)."""
    url = url.strip()
    if len(url) > URL_MAX_LENGTH:
        raise ValidationFailed.field("url", f"At most {URL_MAX_LENGTH} characters.")
    try:
        _url_validator(url)
    except DjangoValidationError:
        raise ValidationFailed.field("url", "Must be an absolute http:// or https:// URL.")
    refused = webhook_addresses.refusal(url, environment, unresolved_ok=True)
    if refused:
        raise ValidationFailed.field("url", refused[0].upper() + refused[1:] + ".")
    return url


def clean_event_types(events: list[str] | None) -> list[str] | None:
    """The event types subscribed to, in the order given without repeats; None means all."""
    if events is None:
        return None
    if not isinstance(events, list) or not all(isinstance(name, str) for name in events):
        raise ValidationFailed.field("events", "Must be a list of event type names.")
    if not events:
        raise ValidationFailed.field(
            "events", "List at least one event type, or leave `events` out to receive them all."
        )
    details = [
        {"field": f"events[{index}]", "message": f"Unknown event type '{name}'."}
        for index, name in enumerate(events)
        if name not in EVENT_TYPES
    ]
    if details:
        raise ValidationFailed(
            "Unknown event type(s); see the list in the webhooks documentation", details=details
        )
    return list(dict.fromkeys(events))


def webhook_endpoint_create(
    *, scope: Scope, url: str, events: list[str] | None, actor: Actor
) -> WebhookEndpoint:
    """Register an endpoint with a new `whsec_` secret, and audit it (`webhook_endpoint.created`).

    `events` None subscribes to every type. One transaction; no customer lock, no ledger entry.
    The returned row carries the secret, which the API shows this once.
    """
    url = clean_endpoint_url(url, scope.environment)
    events = clean_event_types(events)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            merchant_id=scope.merchant_id,
            environment=scope.environment,
            url=url,
            events=events,
            secret=new_secret(),
        )
        audit_record(
            scope=scope,
            event="webhook_endpoint.created",
            actor=actor,
            resource_type="webhook_endpoint",
            resource_id=endpoint.id,
            details={"url": url, "events": events},
        )
    return endpoint


def webhook_endpoint_delete(*, scope: Scope, endpoint_id: str, actor: Actor) -> WebhookEndpoint:
    """Delete an endpoint of `scope` (404 when unknown or already deleted) and audit it.

    The row stays, marked `deleted`, so its delivery history stays readable; deliveries still
    pending are canceled in the same transaction. Locks the endpoint row; no ledger entry.
    """
    with transaction.atomic():
        endpoint = (
            WebhookEndpoint.objects.for_scope(scope)
            .select_for_update()
            .exclude(status=WebhookEndpoint.Status.DELETED)
            .filter(pk=endpoint_id)
            .first()
        )
        if endpoint is None:
            raise NotFound("Webhook endpoint not found")
        endpoint.status = WebhookEndpoint.Status.DELETED
        endpoint.deleted_at = clock.wall_now()
        endpoint.save(update_fields=["status", "deleted_at"])
        canceled = endpoint.deliveries.filter(status=WebhookDelivery.Status.PENDING).update(
            status=WebhookDelivery.Status.CANCELED, next_attempt_at=None
        )
        audit_record(
            scope=scope,
            event="webhook_endpoint.deleted",
            actor=actor,
            resource_type="webhook_endpoint",
            resource_id=endpoint.id,
            details={"url": endpoint.url, "canceledDeliveries": canceled},
        )
    return endpoint


def event_body(*, event_id: str, type: str, created, data: dict) -> str:
    """The JSON body POSTed for an event: `{id, type, created, data}`, compact and ASCII-only.

    Times and decimals are written as the API writes them (ISO-8601 with `Z`, numbers).
    """
    document = {"id": event_id, "type": type, "created": created, "data": data}
    return json.dumps(document, cls=JSONEncoder, separators=(",", ":"), ensure_ascii=True)


def emit_event(*, scope: Scope, type: str, data: dict) -> OutgoingEvent:
    """Announce that something happened: write the event to the outbox and queue its delivery.

    Call it from a service *inside that service's transaction*, after the change it announces.
    It writes an `OutgoingEvent` (`evt_…` id, `created` = the scope's business time) whose body
    `{id, type, created, data}` is serialized here once and stored, plus one pending
    `WebhookDelivery` for every active endpoint of `scope` subscribed to `type`. Nothing leaves
    the server until the caller's transaction commits: a rolled-back change emits nothing. On
    commit the delivery task is queued (`transaction.on_commit`); if the broker is down, the
    minutely beat job delivers instead. Delivery is at least once: receivers dedupe by `id`.
    The billing emails the event causes (a receipt, a failed payment…) are queued here too, in
    the same transaction (billing.services.billing_emails).

    - `type`: one of `EVENT_TYPES` (API.md); anything else is a programming error (ValueError).
    - `data`: a JSON-serializable dict in wire form (camelCase keys, ids, amounts in minor
      units); datetimes and Decimals are accepted and written as the API writes them.

    Takes no lock and posts no ledger entry; callers that change money hold the customer lock
    already, and emitting adds only inserts. Returns the event.
    """
    return emit_events(scope=scope, events=[(type, data)])[0]


def emit_events(*, scope: Scope, events: list[tuple[str, dict]]) -> list[OutgoingEvent]:
    """`emit_event` for many events of `scope` at once (a batch job): the same rows, written
    with one read of the endpoints and one insert each of events and deliveries. Same
    transaction rules: call it inside the transaction of the changes it announces."""
    for type, _ in events:
        if type not in EVENT_TYPES:
            raise ValueError(f"unknown webhook event type {type!r}")
    with transaction.atomic():
        created = clock.now(scope)
        rows = []
        for type, data in events:
            event = OutgoingEvent(merchant_id=scope.merchant_id, environment=scope.environment,
                                  type=type, created_at=created)
            event.payload = event_body(event_id=event.id, type=type, created=created, data=data)
            rows.append(event)
        OutgoingEvent.objects.bulk_create(rows)
        # The emails these events cause, in the same transaction (billing.services.billing_emails)
        emails_queue_for_events(scope=scope, events=[
            (event.id, type, data) for event, (type, data) in zip(rows, events)])
        endpoints = list(WebhookEndpoint.objects.for_scope(scope).filter(
            status=WebhookEndpoint.Status.ACTIVE
        ))
        now = clock.wall_now()
        deliveries = [
            WebhookDelivery(
                merchant_id=scope.merchant_id,
                environment=scope.environment,
                event=event,
                endpoint=endpoint,
                next_attempt_at=now,
                retry_from=now,
            )
            for event in rows
            for endpoint in endpoints
            if endpoint.receives(event.type)
        ]
        if deliveries:
            WebhookDelivery.objects.bulk_create(deliveries)
            for event_id in dict.fromkeys(delivery.event_id for delivery in deliveries):
                transaction.on_commit(partial(queue_event_delivery, event_id), robust=True)
    return rows


def queue_event_delivery(event_id: str) -> None:
    """Hand an event's pending deliveries to a worker (called after commit)."""
    from billing import tasks  # tasks import the services; import here to avoid a cycle

    tasks.deliver_event_webhooks.delay(event_id)

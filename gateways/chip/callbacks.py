"""Incoming CHIP callbacks and webhooks: verified, then read in the contract's words.

CHIP signs two kinds of delivery, each with its own RSA key (`X-Signature`, base64 PKCS#1 v1.5
over SHA-256 of the raw body): a purchase's `success_callback` with the company key (`GET
/public_key/`, or configured), and a webhook registered in CHIP's portal with that webhook's own
key (configured: `options["webhook_public_key"]`). Both POST the object itself with its
`event_type` added: a Purchase, or for `payment.refunded` the refund's Payment, whose
`related_to` names the purchase. CHIP sends no event id: ours is
`<event_type>:<object id>:<updated_on>`, so a success callback and the webhook of the same
change are one event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from gateways.base import EventType, GatewayContext, GatewayError, GatewayEvent, \
    WebhookVerificationError
from gateways.chip import purchases, signing
from gateways.chip.client import ChipClient
from gateways.chip.models import ChipRequest

Kind = ChipRequest.Kind
# CHIP's event types (a success callback without one is named `purchase.<status>`).
_PAID = {"purchase.paid", "purchase.captured"}
_HELD = {"purchase.preauthorized", "purchase.hold"}  # a card saved without a capture
_FAILED = {"purchase.payment_failure", "purchase.error"}
_ENDED = {"purchase.cancelled", "purchase.expired", "purchase.released", "purchase.blocked"}
_COMPANY_KEYS: dict[tuple[str, str], str] = {}  # (base URL, API key digest) → PEM, per process
PEM_MARK = "BEGIN PUBLIC KEY"


def company_key(context: GatewayContext) -> str:
    """The configured company public key, else the one CHIP serves (fetched once per process)."""
    if PEM_MARK in (context.webhook_secret or ""):
        return context.webhook_secret
    try:
        client = ChipClient(context)
        slot = (client.base_url, hashlib.sha256(client.api_key.encode()).hexdigest())
        if slot not in _COMPANY_KEYS:
            _COMPANY_KEYS[slot] = client.public_key()
    except GatewayError as exc:
        raise WebhookVerificationError(f"CHIP's public key is unavailable: {exc.message}") \
            from exc
    return _COMPANY_KEYS[slot]


def verify(context: GatewayContext, *, headers: Mapping[str, str], body: bytes) -> None:
    """Return if a webhook key or the company key signed `body`; WebhookVerificationError
    otherwise (the webhook key is tried first: it needs no call to CHIP)."""
    webhook_key = str((context.options or {}).get("webhook_public_key") or "")
    if PEM_MARK in webhook_key:
        try:
            return signing.verify(public_key_pem=webhook_key, headers=headers, body=body)
        except WebhookVerificationError:
            pass
    signing.verify(public_key_pem=company_key(context), headers=headers, body=body)


def parse(context: GatewayContext, *, headers: Mapping[str, str], body: bytes) -> GatewayEvent:
    verify(context, headers=headers, body=body)
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise WebhookVerificationError("Body is not JSON") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
        raise WebhookVerificationError("Body is not a CHIP purchase or payment")
    return event_of(payload)


def _record(purchase_id: str | None) -> ChipRequest | None:
    """Our checkout or charge that made the purchase (whose merchant, which metadata)."""
    if not purchase_id:
        return None
    return ChipRequest.objects.filter(
        purchase_id=purchase_id, kind__in=(Kind.CHECKOUT, Kind.CHARGE)).first()


def event_of(payload: dict) -> GatewayEvent:
    raw_type = str(payload.get("event_type") or f"purchase.{payload.get('status', '')}")
    event_id = f"{raw_type}:{payload['id']}:{payload.get('updated_on', '')}"
    if payload.get("type") == "payment":
        return _payment_event(payload, raw_type, event_id)
    record = _record(payload["id"])
    is_checkout = record is not None and record.kind == Kind.CHECKOUT
    status = payload.get("status")
    if raw_type in _PAID or (is_checkout and raw_type in _HELD):
        event_type = EventType.CHECKOUT_COMPLETED if is_checkout else EventType.PAYMENT_SUCCEEDED
    elif raw_type in _FAILED:
        event_type = EventType.OTHER if is_checkout else EventType.PAYMENT_FAILED
    elif raw_type in _ENDED and is_checkout:
        event_type = EventType.CHECKOUT_EXPIRED
    else:
        event_type = EventType.OTHER
    code, message = purchases.failure_of(payload) if event_type == EventType.PAYMENT_FAILED \
        else ("", "")
    return GatewayEvent(
        provider_event_id=event_id, type=event_type, raw_type=raw_type,
        provider_payment_id=payload["id"] if status in purchases.PAID or status == "error"
        else None,
        session_id=payload["id"] if is_checkout else None,
        amount=purchases.amount_of(payload), currency=purchases.currency_of(payload),
        failure_code=code, failure_message=message,
        payment_method=purchases.saved_method_of(payload)
        if event_type == EventType.CHECKOUT_COMPLETED else None,
        metadata=dict(record.metadata or {}) if record else {},
        merchant_id=record.merchant_id if record else None,
        environment=record.environment if record else None,
    )


def _payment_event(payload: dict, raw_type: str, event_id: str) -> GatewayEvent:
    """A Payment: `payment.refunded` delivers the refund, `related_to` its purchase."""
    related = payload.get("related_to") or {}
    purchase_id = related.get("id") if related.get("type") == "purchase" else None
    record = _record(purchase_id)
    payment = payload.get("payment") or {}
    return GatewayEvent(
        provider_event_id=event_id, raw_type=raw_type,
        type=EventType.REFUND_SUCCEEDED if raw_type == "payment.refunded" else EventType.OTHER,
        provider_refund_id=payload["id"], provider_payment_id=purchase_id,
        amount=payment.get("amount"), currency=str(payment.get("currency") or "").upper(),
        metadata=dict(record.metadata or {}) if record else {},
        merchant_id=record.merchant_id if record else None,
        environment=record.environment if record else None,
    )

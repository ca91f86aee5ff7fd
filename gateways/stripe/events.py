"""Incoming Stripe webhooks: verified with Stripe's signature scheme, normalized.

`Stripe-Signature: t=<unix>,v1=<HMAC-SHA256 of "t.body" under the endpoint's signing secret>`,
checked by `stripe.Webhook.construct_event` (which also refuses timestamps older than its
tolerance). The event's object is then read from the raw JSON. Intents we opened as hosted
sessions (metadata `cynco_checkout`) announce `checkout.*` events; others are payments.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import stripe

from gateways.base import EventType, GatewayEvent, SavedPaymentMethod, WebhookVerificationError
from gateways.stripe.intents import (
    META_ENVIRONMENT,
    META_MERCHANT,
    META_SESSION,
    action_url_of,
    failure_of,
    id_of,
    last_error,
)

SIGNATURE_HEADER = "stripe-signature"
# The event types we act on (docs/gateways.md: subscribe the endpoint to these); any other type
# is stored, verified and handed on as `other`.
SUCCEEDED = ("payment_intent.succeeded", "setup_intent.succeeded")
CANCELED = ("payment_intent.canceled", "setup_intent.canceled")
REFUNDS = ("refund.created", "refund.updated", "charge.refund.updated")
HANDLED_EVENT_TYPES = (*SUCCEEDED, *CANCELED, "payment_intent.payment_failed",
                       "payment_intent.requires_action", *REFUNDS)


def verified_payload(*, secret: str, headers: Mapping[str, str], body: bytes) -> dict:
    if not secret:
        raise WebhookVerificationError("No Stripe webhook signing secret is configured")
    lowered = {str(name).lower(): value for name, value in headers.items()}
    try:
        stripe.Webhook.construct_event(body, lowered.get(SIGNATURE_HEADER), secret)
        payload = json.loads(body)
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise WebhookVerificationError(f"Stripe signature check failed: {exc}") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
        raise WebhookVerificationError("Body is not a Stripe event")
    return payload


def _type_of(raw_type: str, obj: dict) -> EventType:
    session = (obj.get("metadata") or {}).get(META_SESSION)
    if raw_type in SUCCEEDED:
        return EventType.CHECKOUT_COMPLETED if session else EventType.PAYMENT_SUCCEEDED
    if raw_type in CANCELED and session:
        return EventType.CHECKOUT_EXPIRED
    if session:  # a failed try on the checkout page leaves the session open
        return EventType.OTHER
    if raw_type == "payment_intent.payment_failed":
        return EventType.PAYMENT_FAILED
    if raw_type == "payment_intent.requires_action":
        return EventType.PAYMENT_REQUIRES_ACTION
    if raw_type in REFUNDS:
        return {"succeeded": EventType.REFUND_SUCCEEDED,
                "failed": EventType.REFUND_FAILED}.get(obj.get("status"), EventType.OTHER)
    return EventType.OTHER


def parse(*, secret: str, headers: Mapping[str, str], body: bytes) -> GatewayEvent:
    """A verified Stripe event in the contract's words (WebhookVerificationError otherwise)."""
    payload = verified_payload(secret=secret, headers=headers, body=body)
    raw_type = str(payload.get("type", ""))
    obj = (payload.get("data") or {}).get("object") or {}
    metadata = {str(k): str(v) for k, v in (obj.get("metadata") or {}).items()}
    event_type = _type_of(raw_type, obj)
    is_refund = obj.get("object") == "refund"
    intent_id = id_of(obj.get("payment_intent")) if is_refund else obj.get("id")
    code, message = failure_of(last_error(obj)) if not is_refund else ("", "")
    method_id = id_of(obj.get("payment_method"))
    return GatewayEvent(
        provider_event_id=payload["id"],
        type=event_type,
        raw_type=raw_type,
        provider_payment_id=intent_id if intent_id and intent_id.startswith("pi_") else None,
        provider_refund_id=obj.get("id") if is_refund else None,
        session_id=obj.get("id") if metadata.get(META_SESSION) else None,
        amount=obj.get("amount"),
        currency=(obj.get("currency") or "").upper(),
        failure_code=code,
        failure_message=message,
        action_url=action_url_of(obj) if event_type == EventType.PAYMENT_REQUIRES_ACTION else "",
        payment_method=SavedPaymentMethod(token=method_id)
        if event_type == EventType.CHECKOUT_COMPLETED and method_id else None,
        metadata=metadata,
        merchant_id=metadata.get(META_MERCHANT) or None,
        environment=metadata.get(META_ENVIRONMENT) or None,
    )

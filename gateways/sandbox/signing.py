"""Signed sandbox webhook events, in the style of Stripe's: `Sandbox-Signature: t=<unix>,v1=<hex>`
where v1 is HMAC-SHA256 of `<t>.<raw body>` under the account's webhook secret."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping

from cynco.ids import new_id
from gateways.base import WebhookVerificationError

SIGNATURE_HEADER = "sandbox-signature"
TOLERANCE_SECONDS = 300


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_event(
    *, secret: str, event_type: str, merchant_id: str, environment: str, data: dict,
    timestamp: int | None = None,
) -> tuple[dict[str, str], bytes]:
    """(headers, raw body) of a new event, as the sandbox would POST it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    body = json.dumps(
        {"id": new_id("sbx_evt"), "type": event_type, "created": timestamp,
         "merchant": merchant_id, "environment": environment, "data": data},
        separators=(",", ":"),
    ).encode()
    return {SIGNATURE_HEADER: f"t={timestamp},v1={_digest(secret, timestamp, body)}"}, body


def verified_payload(*, secret: str, headers: Mapping[str, str], body: bytes) -> dict:
    """The event's JSON once its signature checks out; WebhookVerificationError otherwise."""
    if not secret:
        raise WebhookVerificationError("No webhook secret is configured for this sandbox account")
    lowered = {str(name).lower(): value for name, value in headers.items()}
    header = lowered.get(SIGNATURE_HEADER, "")
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
        signature = parts["v1"]
    except (KeyError, ValueError) as exc:
        raise WebhookVerificationError("Missing or malformed Sandbox-Signature header") from exc
    if abs(time.time() - timestamp) > TOLERANCE_SECONDS:
        raise WebhookVerificationError("Signature timestamp outside the tolerance")
    if not hmac.compare_digest(signature, _digest(secret, timestamp, body)):
        raise WebhookVerificationError("Signature does not match the body")
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise WebhookVerificationError("Body is not JSON") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
        raise WebhookVerificationError("Body is not a sandbox event")
    return payload

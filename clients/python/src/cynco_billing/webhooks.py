"""Verifying the webhooks a Cynco Billing server sends.

Each delivery is a POST whose body is `{"id", "type", "created", "data"}` and whose
`X-Cynco-Signature` header is the lowercase hex HMAC-SHA256 of the exact raw body, keyed with
the endpoint's secret (`whsec_…`, as given by `create_webhook`). The server's signature carries
no timestamp, so there is none to hold to a tolerance: de-duplicate by the event `id` (it is
the same on every retry of one event) to ignore replays. Should a `t=<unix time>,v1=<hex>`
signature be given (a gateway-style header), its time is checked against `tolerance`.

    event = verify_webhook(request.body, request.headers.get("X-Cynco-Signature"), SECRET)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from cynco_billing.errors import CyncoBillingError

SIGNATURE_HEADER = "X-Cynco-Signature"
DEFAULT_TOLERANCE = 300


class WebhookVerificationError(CyncoBillingError):
    """The body was not signed with the secret, or is not an event. `code`:
    WEBHOOK_SIGNATURE_INVALID or WEBHOOK_PAYLOAD_INVALID."""

    def __init__(self, message: str, *, code: str = "WEBHOOK_SIGNATURE_INVALID"):
        super().__init__(message, code=code)


def sign_webhook_payload(raw_body: bytes | str, secret: str) -> str:
    """The signature the server sends for `raw_body` (for tests of your receiver)."""
    body = raw_body.encode("utf-8") if isinstance(raw_body, str) else raw_body
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_webhook(raw_body: bytes | str, signature: str | None, secret: str, *,
                   tolerance: float = DEFAULT_TOLERANCE, now: float | None = None
                   ) -> dict[str, Any]:
    """The event (a dict: id, type, created, data) if `signature` is the server's signature of
    `raw_body` under `secret`; raises WebhookVerificationError otherwise.

    Pass the body exactly as received (bytes, before any JSON parsing). The comparison takes
    constant time. `tolerance` (seconds) applies only to a signature that carries a time.
    """
    if not signature:
        raise WebhookVerificationError(f"Missing {SIGNATURE_HEADER} header")
    body = raw_body.encode("utf-8") if isinstance(raw_body, str) else bytes(raw_body)
    given, signed = _parts(signature.strip())
    if given is None:
        raise WebhookVerificationError("Invalid webhook signature")
    if signed is not None:
        moment = time.time() if now is None else now
        if abs(moment - signed) > tolerance:
            raise WebhookVerificationError("Webhook signature is outside the time tolerance")
        body = str(signed).encode() + b"." + body
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    if len(given) != len(expected) or not hmac.compare_digest(given, expected):
        raise WebhookVerificationError("Invalid webhook signature")
    try:
        event = json.loads(body if signed is None else body.split(b".", 1)[1])
    except ValueError as exc:
        raise WebhookVerificationError("Invalid webhook payload: not JSON",
                                       code="WEBHOOK_PAYLOAD_INVALID") from exc
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise WebhookVerificationError("Invalid webhook payload: missing type or id",
                                       code="WEBHOOK_PAYLOAD_INVALID")
    return event


def _parts(signature: str) -> tuple[bytes | None, int | None]:
    """(signature bytes, signed time or None) of a plain hex or a `t=…,v1=…` header."""
    if "=" not in signature:
        return _hex(signature), None
    fields = dict(part.split("=", 1) for part in signature.split(",") if "=" in part)
    try:
        signed = int(fields.get("t", ""))
    except ValueError:
        return None, None
    return _hex(fields.get("v1", "")), signed


def _hex(text: str) -> bytes | None:
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None

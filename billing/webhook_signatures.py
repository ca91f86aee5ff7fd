"""How an outgoing webhook is signed (API.md, "Outgoing webhooks"; client `verifyWebhook`).

`X-Cynco-Signature` is the lowercase hex HMAC-SHA256 of the exact raw body bytes, keyed with
the endpoint's secret string as-is (its UTF-8 bytes, `whsec_` prefix included). No prefix such
as `sha256=`, no timestamp. Pure functions, no Django.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "X-Cynco-Signature"
EVENT_ID_HEADER = "X-Cynco-Event-Id"
EVENT_TYPE_HEADER = "X-Cynco-Event-Type"
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A new endpoint secret, `whsec_` plus 48 hex characters (192 random bits)."""
    return SECRET_PREFIX + secrets.token_hex(24)


def sign(body: bytes, secret: str) -> str:
    """The signature of `body` under `secret`, as sent in X-Cynco-Signature."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(body: bytes, signature: str | None, secret: str) -> bool:
    """What a receiver does, mirroring the client's verifier: hex-decode, compare in constant time.

    A missing, non-hex or wrong-length signature is simply invalid.
    """
    if not signature:
        return False
    try:
        given = bytes.fromhex(signature)
    except ValueError:
        return False
    expected = bytes.fromhex(sign(body, secret))
    return hmac.compare_digest(given, expected)

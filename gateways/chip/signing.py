"""CHIP's callback signatures: `X-Signature` is base64 RSA PKCS#1 v1.5 over SHA-256 of the raw
body, verified with the company public key (GET /public_key/, or configured)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from gateways.base import WebhookVerificationError

SIGNATURE_HEADER = "x-signature"


def verify(*, public_key_pem: str, headers: Mapping[str, str], body: bytes) -> None:
    """Return if the body is signed by the key's owner; WebhookVerificationError otherwise."""
    lowered = {str(name).lower(): value for name, value in headers.items()}
    header = lowered.get(SIGNATURE_HEADER)
    if not header:
        raise WebhookVerificationError("Missing X-Signature header")
    try:
        signature = base64.b64decode(header, validate=True)
        key = serialization.load_pem_public_key(public_key_pem.encode())
        key.verify(signature, body, padding.PKCS1v15(), hashes.SHA256())
    except (binascii.Error, ValueError, TypeError, InvalidSignature, AttributeError) as exc:
        raise WebhookVerificationError("X-Signature does not verify with CHIP's public key") \
            from exc

"""Gateway credentials encrypted at rest (Fernet: AES-128-CBC + HMAC-SHA256, from `cryptography`).

Keys come from `settings.GATEWAY_ENCRYPTION_KEYS` (env `GATEWAY_ENCRYPTION_KEYS`: comma-separated
Fernet keys, made with `Fernet.generate_key()`). The first key encrypts; every key decrypts, so
a key is rotated by putting the new one first, running `manage.py rotate_gateway_secrets`, then
dropping the old one. When the variable is unset, one key is derived from `SECRET_KEY` with
HKDF, which is enough for development but ties the secrets to `SECRET_KEY`: set the variable in
production.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

_DERIVATION_INFO = b"cynco.gateway-credentials.v1"


def derived_key(secret: str) -> bytes:
    """A Fernet key derived from `secret` (used when GATEWAY_ENCRYPTION_KEYS is unset)."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_DERIVATION_INFO).derive(
        secret.encode()
    )
    return base64.urlsafe_b64encode(raw)


@lru_cache(maxsize=8)
def _cipher(keys: tuple[str, ...], fallback_secret: str) -> MultiFernet:
    try:
        fernets = [Fernet(key.encode()) for key in keys] or [Fernet(derived_key(fallback_secret))]
    except ValueError as exc:
        raise ImproperlyConfigured(
            "GATEWAY_ENCRYPTION_KEYS must hold Fernet keys (32 url-safe base64 bytes each)"
        ) from exc
    return MultiFernet(fernets)


def cipher() -> MultiFernet:
    return _cipher(tuple(settings.GATEWAY_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt(plain: str) -> str:
    return cipher().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return cipher().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A gateway secret cannot be decrypted with GATEWAY_ENCRYPTION_KEYS "
            "(was the key, or SECRET_KEY it was derived from, changed?)"
        ) from exc


class EncryptedTextField(models.TextField):
    """A text column whose value is stored Fernet-encrypted; Python code sees the plain text.

    The empty string means "not set" and is stored as is. Lookups on the column are meaningless
    (each encryption differs), so only read and write it whole.
    """

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(value)

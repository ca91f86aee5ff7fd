"""API key material: how raw keys look, and how they are hashed and recognised."""

from __future__ import annotations

import hashlib
import re
import secrets

KEY_PATTERN = re.compile(r"^cp_(sk|pk)_(live|test)_[A-Za-z0-9]{20,64}$")
TYPE_CODES = {"secret": "sk", "publishable": "pk"}
VISIBLE_PREFIX_LENGTH = 15  # "cp_sk_test_" plus four characters of the random part


def hash_key(raw_key: str) -> str:
    """The SHA-256 hex digest under which a key is stored and looked up."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


def generate_raw_key(*, key_type: str, environment: str) -> str:
    """A new raw key such as `cp_sk_test_…` (32 random alphanumerics, ~190 bits)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    random_part = "".join(secrets.choice(alphabet) for _ in range(32))
    return f"cp_{TYPE_CODES[key_type]}_{environment}_{random_part}"


def looks_like_key(raw_key: str) -> bool:
    return bool(KEY_PATTERN.match(raw_key))

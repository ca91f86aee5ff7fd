"""Signed links for customers: portal sessions, hosted checkout and invoice pages.

A link carries what it opens (kind + object id + scope) signed with SECRET_KEY through Django's
signing, so it needs no table and cannot be forged or pointed at another object. Each kind has
its own salt, so a checkout token never opens a portal. Portal links expire after an hour
(API.md); invoice and checkout links live longer because customers come back to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing

LIFETIMES = {
    "portal": timedelta(hours=1),
    # A billing email's way into the portal: opening it makes a fresh one-hour portal link
    # (a customer reads their mail days later, and the email must still work then).
    "portal_email": timedelta(days=7),
    "checkout": timedelta(days=1),
    "invoice": timedelta(days=365),
}


class LinkExpired(Exception):
    """The link was genuine but is too old."""


class LinkInvalid(Exception):
    """The link was not made by this server (or was altered)."""


@dataclass(frozen=True)
class LinkTarget:
    kind: str
    object_id: str
    merchant_id: str
    environment: str


def make_token(target: LinkTarget) -> str:
    payload = [target.object_id, target.merchant_id, target.environment]
    return signing.dumps(payload, salt=f"cynco.link.{target.kind}", compress=True)


def read_token(kind: str, token: str) -> LinkTarget:
    """The target of a token of `kind`; raises LinkExpired or LinkInvalid."""
    try:
        object_id, merchant_id, environment = signing.loads(
            token, salt=f"cynco.link.{kind}", max_age=LIFETIMES[kind]
        )
    except signing.SignatureExpired as exc:
        raise LinkExpired() from exc
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise LinkInvalid() from exc
    return LinkTarget(kind, object_id, merchant_id, environment)


def absolute_url(path: str) -> str:
    """`path` on this server's public address (PUBLIC_BASE_URL)."""
    return f"{settings.PUBLIC_BASE_URL}{path}"

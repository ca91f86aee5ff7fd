"""Which keys may call which endpoint (API.md, Publishable keys).

Every endpoint needs a secret key unless its view says otherwise with one of the classes below.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from cynco.errors import Forbidden, Unauthorized


def _key(request):
    if request.auth is None:
        raise Unauthorized()
    return request.auth


class SecretKeyRequired(BasePermission):
    """The default: a secret key of the merchant."""

    # What the OpenAPI document says of the operations behind it (cynco.api.schema).
    described_as = "Keys: secret keys only."
    can_forbid = True

    def has_permission(self, request, view) -> bool:
        if not _key(request).is_secret:
            raise Forbidden("This endpoint needs a secret key (cp_sk_…)")
        return True


class PublishableAllowed(BasePermission):
    """A secret key, or a publishable one (the view limits what a publishable key may do)."""

    described_as = "Keys: secret or publishable."
    can_forbid = False

    def has_permission(self, request, view) -> bool:
        _key(request)
        return True


def publishable_with_scope(scope: str) -> type[BasePermission]:
    """A secret key, or a publishable key that the merchant granted `scope` (`track`, `portal`)."""

    class PublishableWithScope(BasePermission):
        described_as = f"Keys: secret, or publishable with the `{scope}` scope."
        can_forbid = True

        def has_permission(self, request, view) -> bool:
            key = _key(request)
            if key.is_secret or scope in (key.scopes or []):
                return True
            raise Forbidden(f"This publishable key lacks the '{scope}' scope")

    PublishableWithScope.__name__ = f"PublishableWithScope_{scope}"
    return PublishableWithScope


def require_secret(request, what: str) -> None:
    """Refuse a publishable key for one option of an endpoint that otherwise allows it."""
    if not _key(request).is_secret:
        raise Forbidden(f"A publishable key may not {what}")

"""`Authorization: Bearer cp_…` authentication for the API."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from rest_framework.authentication import BaseAuthentication

from cynco.clock import wall_now
from cynco.errors import Unauthorized
from cynco.keys import hash_key, looks_like_key
from cynco.models import ApiKey

# lastUsedAt is refreshed at most this often, so a busy key does not write on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiPrincipal:
    """`request.user` of an API call: the key's merchant. Never a Django user."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, key: ApiKey):
        self.key = key
        self.merchant_id = key.merchant_id

    def __str__(self) -> str:
        return f"api key {self.key.id}"


class ApiKeyAuthentication(BaseAuthentication):
    """Finds the key by its hash; revoked and unknown keys are 401 at once (nothing is cached)."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None  # the permission check answers 401 UNAUTHORIZED
        scheme, _, raw_key = header.partition(" ")
        raw_key = raw_key.strip()
        if scheme.lower() != "bearer" or not looks_like_key(raw_key):
            raise Unauthorized("Authorization must be 'Bearer cp_sk_…' or 'Bearer cp_pk_…'")
        key = ApiKey.objects.filter(key_hash=hash_key(raw_key)).first()
        if key is None:
            raise Unauthorized("Unknown API key")
        if key.revoked_at is not None:
            raise Unauthorized("This API key has been revoked")
        self._touch(key)
        return ApiPrincipal(key), key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'

    @staticmethod
    def _touch(key: ApiKey) -> None:
        now = wall_now()
        if key.last_used_at and now - key.last_used_at < LAST_USED_RESOLUTION:
            return
        stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ApiKey.objects.filter(stale, pk=key.pk).update(last_used_at=now)

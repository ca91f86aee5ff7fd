"""One JSON log line and one latency observation per request, and the request id.

`RequestLogMiddleware` is the outermost middleware. It gives every request an id (the caller's
`X-Request-Id` when it is a plain token, else a new one), returns it in the `X-Request-Id`
response header, makes it the `request_id` of every log record written while the request runs
(cynco.log_format), and when the answer is ready logs:

    {"msg": "request", "request_id", "method", "route", "path", "status", "duration_ms",
     "merchant_id", "key_id", "environment", "error_code"}

`route` is the URL pattern (`api/v1/pay/coupons/<str:coupon_id>`); `path` is logged for API
routes only (portal and checkout paths carry signed tokens). The query string is never logged.
The key is identified by its id, never by its value. check and track answered by the
one-statement path never load the key row: for them the id comes from a small per-process map
filled by earlier full-path requests of the same key, else the line carries `key_hash` (the first
12 characters of the SHA-256 the database stores the key under) instead.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections import OrderedDict

from django.conf import settings

from cynco import metrics
from cynco.keys import hash_key, looks_like_key
from cynco.log_format import request_id as current_request_id

HEADER = "X-Request-Id"
_GIVEN_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
_KNOWN_KEYS_MAX = 4096

logger = logging.getLogger("cynco.request")


class _KnownKeys:
    """key hash → (key id, merchant id, environment), filled from authenticated requests.
    A key's id, merchant and environment never change, so an entry never goes stale."""

    def __init__(self):
        self._entries: OrderedDict[str, tuple[str, str, str]] = OrderedDict()

    def remember(self, key) -> None:
        self._entries[key.key_hash] = (key.id, key.merchant_id, key.environment)
        self._entries.move_to_end(key.key_hash)
        while len(self._entries) > _KNOWN_KEYS_MAX:
            self._entries.popitem(last=False)

    def get(self, key_hash: str) -> tuple[str, str, str] | None:
        return self._entries.get(key_hash)


known_keys = _KnownKeys()


def new_request_id() -> str:
    return "req_" + uuid.uuid4().hex[:24]


def route_of(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.route or match.view_name or "<unnamed>"
    if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "<static>"
    return "<unmatched>"


def error_code_of(response) -> str | None:
    """The envelope's `error.code` of an error answer, if it has one."""
    if response.status_code < 400 or getattr(response, "streaming", False):
        return None
    if not response.get("Content-Type", "").startswith("application/json"):
        return None
    content = response.content
    if len(content) > 65536:
        return None
    try:
        error = json.loads(content).get("error")
    except (ValueError, AttributeError):
        return None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) and len(code) <= 64 else None


def _key_fields(request, status: int) -> dict:
    key = getattr(request, "auth", None)
    if key is not None and hasattr(key, "key_hash"):
        known_keys.remember(key)
        return {"key_id": key.id, "merchant_id": key.merchant_id,
                "environment": key.environment}
    scheme, _, raw_key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    raw_key = raw_key.strip()
    if scheme.lower() != "bearer" or not looks_like_key(raw_key) or status == 401:
        return {}
    key_hash = hash_key(raw_key)
    known = known_keys.get(key_hash)
    if known is None:
        return {"key_hash": key_hash[:12]}
    key_id, merchant_id, environment = known
    return {"key_id": key_id, "merchant_id": merchant_id, "environment": environment}


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get(HEADER, "")
        request_id = given if _GIVEN_ID.match(given) else new_request_id()
        request.request_id = request_id
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            response[HEADER] = request_id
            self._record(request, response, seconds)
        finally:
            current_request_id.reset(token)
        return response

    @staticmethod
    def _record(request, response, seconds: float) -> None:
        route = route_of(request)
        status = response.status_code
        code = error_code_of(response)
        metrics.request_finished(route=route, method=request.method, status=status,
                                 seconds=seconds, error_code=code)
        fields = {
            "method": request.method, "route": route, "status": status,
            "duration_ms": round(seconds * 1000, 2), **_key_fields(request, status),
        }
        if request.path.startswith("/api/"):
            fields["path"] = request.path
        if code:
            fields["error_code"] = code
        level = logging.ERROR if status >= 500 else logging.INFO
        logger.log(level, "request", extra=fields)

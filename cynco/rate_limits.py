"""Per-key rate limits: a token bucket per API key and budget, kept in Redis (docs/api-conventions.md,
Rate limits).

Two budgets: `usage` (check and track, RATE_LIMIT_USAGE_PER_SECOND) and `api` (everything else,
RATE_LIMIT_API_PER_SECOND). A bucket holds one second's worth of requests (the burst) and refills
continuously at the rate. A merchant's own rates, set by an operator on the merchant in the
console, replace the defaults for all of its keys. Test keys have the same budgets as live ones.

The bucket is read, refilled and taken from in one Lua script, so concurrent requests on any
number of web processes never spend one token twice. Redis's own clock is used, so the web
machines' clocks need not agree. When Redis cannot be reached requests are served (limits are
a protection, not a gate) and a warning is logged, at most once per outage.

`RateLimitMiddleware` applies it before any view, the fast check/track path included.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.checks import Warning as CheckWarning
from django.core.checks import register
from django.http import JsonResponse

from cynco.errors import RateLimited, error_body
from cynco.keys import hash_key, looks_like_key
from cynco.models import ApiKey

logger = logging.getLogger(__name__)

USAGE_PATHS = frozenset({"/api/v1/pay/check", "/api/v1/pay/track", "/api/v1/pay/track/batch"})
# After a failed call, Redis is left alone this long (requests are served unlimited meanwhile),
# so an outage costs each request nothing rather than a connect timeout.
REDIS_RETRY_AFTER_SECONDS = 5.0
REDIS_TIMEOUT_SECONDS = 0.25
# How long a process remembers a key's merchant rates: an override set in the console takes
# effect within this time.
LIMITS_CACHE_SECONDS = 30.0

TOKEN_BUCKET = """
if redis.replicate_commands then redis.replicate_commands() end
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(tokens)}
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the bucket is full again
    retry_after_seconds: int  # until one request is allowed (0 when allowed now)

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
            "RateLimit-Policy": f"{self.limit};w=1;burst={self.limit}",
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after_seconds)
        return headers


class TokenBuckets:
    """Token buckets in one Redis server. `take` answers None when Redis is unavailable."""

    def __init__(self, url: str):
        self.url = url
        self._client = redis.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS, health_check_interval=30,
        )
        self._script = self._client.register_script(TOKEN_BUCKET)
        self._down_until = 0.0
        self._lock = threading.Lock()

    def take(self, bucket: str, *, rate: float, burst: int) -> Decision | None:
        """Spend one token of `bucket` (refilling at `rate` per second up to `burst`)."""
        if time.monotonic() < self._down_until:
            return None
        try:
            allowed, tokens = self._script(keys=[f"ratelimit:{bucket}"], args=[rate, burst])
        except redis.RedisError as exc:
            self._went_down(exc)
            return None
        tokens = float(tokens)
        return Decision(
            allowed=bool(allowed), limit=burst, remaining=int(tokens),
            reset_seconds=math.ceil((burst - tokens) / rate),
            retry_after_seconds=0 if allowed else max(1, math.ceil((1 - tokens) / rate)),
        )

    def _went_down(self, exc: Exception) -> None:
        with self._lock:
            first = self._down_until == 0.0 or time.monotonic() >= self._down_until + 60
            self._down_until = time.monotonic() + REDIS_RETRY_AFTER_SECONDS
        if first:
            logger.warning("Rate limits not enforced: Redis at %s unavailable (%s); serving "
                           "requests without limits", _redacted(self.url), exc)


def _redacted(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"


class MerchantLimits:
    """Each key's per-second rates (the merchant's overrides or the defaults), cached a while."""

    def __init__(self):
        self._cache: dict[str, tuple[float, tuple[int | None, int | None]]] = {}

    def rate(self, key_hash: str, budget: str) -> int:
        usage, api = self._overrides(key_hash)
        if budget == "usage":
            return usage or settings.RATE_LIMIT_USAGE_PER_SECOND
        return api or settings.RATE_LIMIT_API_PER_SECOND

    def forget(self) -> None:
        self._cache.clear()

    def _overrides(self, key_hash: str) -> tuple[int | None, int | None]:
        cached = self._cache.get(key_hash)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        found = ApiKey.objects.filter(key_hash=key_hash).values_list(
            "merchant__rate_limit_usage_per_second", "merchant__rate_limit_api_per_second"
        ).first()
        overrides = found or (None, None)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key_hash] = (now + LIMITS_CACHE_SECONDS, overrides)
        return overrides


merchant_limits = MerchantLimits()
_buckets: dict[str, TokenBuckets] = {}
_buckets_lock = threading.Lock()


def buckets() -> TokenBuckets | None:
    """The buckets of RATE_LIMIT_REDIS_URL (one client per URL and process), or None."""
    url = settings.RATE_LIMIT_REDIS_URL
    if not url:
        return None
    store = _buckets.get(url)
    if store is None:
        with _buckets_lock:  # one client per URL, or each would log the same outage
            store = _buckets.setdefault(url, TokenBuckets(url))
    return store


def budget_of(path: str) -> str:
    return "usage" if path.rstrip("/") in USAGE_PATHS else "api"


class RateLimitMiddleware:
    """429 RATE_LIMITED (with Retry-After) once a key has spent its budget; `RateLimit-*`
    headers on every limited answer. Requests without a well-formed key are left to
    authentication (401), and count against nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        decision = self._decide(request)
        if decision is None:
            return self.get_response(request)
        if not decision.allowed:
            error = RateLimited(
                f"Rate limit of {decision.limit} requests per second for this key exceeded; "
                f"retry after {decision.retry_after_seconds} s"
            )
            response = JsonResponse(error_body(error.code, error.message), status=error.status)
        else:
            response = self.get_response(request)
        for name, value in decision.headers().items():
            response[name] = value
        return response

    @staticmethod
    def _decide(request) -> Decision | None:
        if not settings.RATE_LIMITS_ENABLED or not request.path.startswith("/api/v1/"):
            return None
        scheme, _, raw_key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        raw_key = raw_key.strip()
        if scheme.lower() != "bearer" or not looks_like_key(raw_key):
            return None
        store = buckets()
        if store is None:
            return None
        key_hash = hash_key(raw_key)
        budget = budget_of(request.path)
        rate = merchant_limits.rate(key_hash, budget)
        return store.take(f"{budget}:{key_hash}", rate=rate, burst=rate)


@register()
def rate_limits_need_redis(app_configs, **kwargs):
    if settings.RATE_LIMITS_ENABLED and not settings.RATE_LIMIT_REDIS_URL:
        return [CheckWarning(
            "Rate limits are enabled but no Redis is configured: no limit is enforced",
            hint="Set REDIS_URL (or RATE_LIMIT_REDIS_URL), or RATE_LIMITS_ENABLED=false",
            id="cynco.W001",
        )]
    return []

"""Per-key rate limits: real Redis (a private redis-server), real HTTP clients in real threads
against a live server."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from cynco import rate_limits
from cynco.rate_limits import TokenBuckets
from tests.factories import make_merchant
from tests.redis_server import redis_url

pytestmark = pytest.mark.django_db(transaction=True)

KEYS = "/api/v1/pay/api-keys"
CHECK = "/api/v1/pay/check"


@pytest.fixture(scope="module")
def redis_at():
    with redis_url() as url:
        yield url


@pytest.fixture
def limited(settings, redis_at):
    settings.RATE_LIMITS_ENABLED = True
    settings.RATE_LIMIT_REDIS_URL = redis_at
    settings.RATE_LIMIT_API_PER_SECOND = 10
    settings.RATE_LIMIT_USAGE_PER_SECOND = 1000
    rate_limits.merchant_limits.forget()
    yield settings
    rate_limits.merchant_limits.forget()


def _get(live_server, key: str, path: str = KEYS) -> requests.Response:
    return requests.get(live_server.url + path, headers={"Authorization": f"Bearer {key}"},
                        timeout=30)


def _burst(live_server, key: str, count: int, path: str = KEYS):
    """`count` requests at once from 20 client threads; (responses, seconds taken)."""
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(lambda _: _get(live_server, key, path), range(count)))
    return responses, time.monotonic() - started


def test_concurrent_takes_never_spend_a_token_twice(redis_at):
    buckets = TokenBuckets(redis_at)

    def take(_):
        return buckets.take("test:atomic", rate=0.001, burst=30).allowed

    with ThreadPoolExecutor(max_workers=40) as pool:
        allowed = list(pool.map(take, range(200)))
    assert allowed.count(True) == 30


def test_a_key_past_its_budget_gets_429_with_retry_after_and_ratelimit_headers(
        limited, live_server):
    keys = make_merchant()
    responses, seconds = _burst(live_server, keys.secret_test, 60)
    served = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 429]
    assert len(served) + len(refused) == 60, {r.status_code for r in responses}
    # A full bucket of 10, plus what refilled at 10/s while the burst ran.
    assert 10 <= len(served) <= 10 + int(10 * seconds) + 1, (len(served), seconds)
    assert refused
    for response in refused:
        body = response.json()
        assert body["success"] is False and body["error"]["code"] == "RATE_LIMITED"
        assert int(response.headers["Retry-After"]) >= 1
        assert response.headers["RateLimit-Limit"] == "10"
        assert response.headers["RateLimit-Remaining"] == "0"
    assert all(r.headers["RateLimit-Limit"] == "10" for r in served)

    time.sleep(int(refused[-1].headers["Retry-After"]))
    assert _get(live_server, keys.secret_test).status_code == 200


def test_check_and_track_have_their_own_budget(limited, live_server):
    keys = make_merchant()
    responses, _ = _burst(live_server, keys.secret_test, 40)
    assert any(r.status_code == 429 for r in responses)
    check = requests.post(live_server.url + CHECK, json={"customer": "c", "feature": "f"},
                          headers={"Authorization": f"Bearer {keys.secret_test}"}, timeout=30)
    assert check.status_code == 404  # the usage budget is untouched: the answer is the view's
    assert check.headers["RateLimit-Limit"] == "1000"


def test_each_key_has_its_own_bucket_test_keys_as_live(limited, live_server):
    keys = make_merchant()
    test_served, _ = _burst(live_server, keys.secret_test, 40)
    live_served, _ = _burst(live_server, keys.secret_live, 40)
    for responses in (test_served, live_served):
        assert any(r.status_code == 429 for r in responses)
        assert sum(r.status_code == 200 for r in responses) >= 10


def test_an_operator_sets_a_merchants_own_rate_in_the_console(limited, live_server, operator):
    keys = make_merchant()
    merchant = keys.merchant
    page = f"/admin/cynco/merchant/{merchant.pk}/change/"
    assert operator.get(page).status_code == 200
    saved = operator.post(page, {"name": merchant.name, "default_currency": "MYR",
                                 "rate_limit_api_per_second": "3",
                                 "rate_limit_usage_per_second": ""})
    assert saved.status_code == 302, saved.content[:500]
    rate_limits.merchant_limits.forget()  # other processes pick it up within 30 s

    responses, seconds = _burst(live_server, keys.secret_test, 20)
    served = sum(r.status_code == 200 for r in responses)
    assert 3 <= served <= 3 + int(3 * seconds) + 1
    assert responses[0].headers["RateLimit-Limit"] == "3"


def test_limits_switched_off(limited, live_server):
    limited.RATE_LIMITS_ENABLED = False
    keys = make_merchant()
    responses, _ = _burst(live_server, keys.secret_test, 40)
    assert {r.status_code for r in responses} == {200}
    assert "RateLimit-Limit" not in responses[0].headers


def test_requests_are_served_when_redis_is_down_and_it_is_logged(limited, live_server, caplog,
                                                                  tmp_path):
    limited.RATE_LIMIT_REDIS_URL = f"unix://{tmp_path}/nothing-listens-here.sock"
    keys = make_merchant()
    with caplog.at_level(logging.WARNING, logger="cynco.rate_limits"):
        responses, _ = _burst(live_server, keys.secret_test, 30)
    assert {r.status_code for r in responses} == {200}
    warnings = [r for r in caplog.records if "Rate limits not enforced" in r.getMessage()]
    assert len(warnings) == 1

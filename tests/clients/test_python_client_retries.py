"""Retries, against a real front server that fails on cue before the real server answers:
429 and 503 (waiting what Retry-After says), dropped connections and answers lost after the
work was done (the Idempotency-Key makes the retry a replay, never a second charge); other
4xx are never retried; a timeout is one."""

from __future__ import annotations

import time

import pytest
from cynco_billing import AsyncCyncoBilling, CyncoBilling, CyncoBillingError, RetryPolicy

from tests.clients.catalog import paying_customer, sell_plans
from tests.clients.conftest import QUICK


@pytest.fixture
def through_front(keys, front):
    with CyncoBilling(keys.secret_test, base_url=front.url, retry=QUICK) as client:
        yield client


def test_503_then_429_are_retried_and_the_third_attempt_answers(billing, through_front, front):
    sell_plans(billing)
    front.plays = [503, 429]
    products = through_front.list_products()
    assert products.total == 4
    assert [seen.path for seen in front.seen] == ["/api/v1/pay/products"] * 3


def test_retry_after_is_waited_for(billing, through_front, front):
    front.plays, front.headers = [429], {"Retry-After": "1"}
    started = time.monotonic()
    through_front.list_products()
    assert time.monotonic() - started >= 1.0 and len(front.seen) == 2


def test_a_retry_after_longer_than_the_policy_allows_is_not_waited(keys, front):
    front.plays, front.headers = [503], {"Retry-After": "3600"}
    client = CyncoBilling(keys.secret_test, base_url=front.url,
                          retry=RetryPolicy(retry_after_max=30))
    with pytest.raises(CyncoBillingError) as gave_up:
        client.list_products()
    assert (gave_up.value.status, len(front.seen)) == (503, 1)


def test_when_every_attempt_fails_the_last_error_is_raised(through_front, front):
    front.plays = [503, 503, 503, 503]
    with pytest.raises(CyncoBillingError) as failed:
        through_front.list_products()
    assert (failed.value.status, failed.value.code) == (503, "UPSTREAM")
    assert len(front.seen) == 3  # the first try and max_retries=2


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 409, 410, 422])
def test_other_4xx_answers_are_never_retried(through_front, front, status):
    front.plays = [status]
    with pytest.raises(CyncoBillingError) as refused:
        through_front.list_products()
    assert refused.value.status == status and len(front.seen) == 1


def test_a_dropped_connection_is_retried(billing, through_front, front):
    sell_plans(billing)
    front.plays = ["drop"]
    assert through_front.list_products().total == 4 and len(front.seen) == 2


def test_an_answer_lost_after_the_charge_is_retried_with_the_same_key_and_charged_once(
        billing, through_front, front):
    sell_plans(billing)
    paying_customer(billing)  # a saved card: the upgrade below charges it at once
    front.plays = ["lose_answer", 503]
    upgraded = through_front.subscribe("user_1", "enterprise")
    assert upgraded.action == "activated"
    keys_sent = {seen.headers["Idempotency-Key"] for seen in front.seen}
    assert len(front.seen) == 3 and len(keys_sent) == 1
    invoices = billing.list_invoices("user_1")
    upgrade_invoices = [invoice for invoice in invoices if invoice.total != 2000]
    assert len(upgrade_invoices) == 1, [(i.id, i.total) for i in invoices]
    assert [s.product_slug for s in billing.get_customer("user_1").subscriptions
            if s.status == "active"] == ["enterprise"]


def test_a_track_whose_answer_was_lost_is_counted_once(billing, through_front, front):
    sell_plans(billing)
    paying_customer(billing)
    front.plays = ["lose_answer"]
    retried = through_front.track("user_1", "messages", amount=7)
    assert (retried.recorded, retried.duplicate) == (False, True)
    assert billing.check("user_1", "messages").usage == 7
    [first, second] = front.seen
    assert first.body == second.body and b'"idempotencyKey":"py_' in first.body


def test_a_caller_key_is_sent_as_given_on_every_attempt(billing, through_front, front):
    sell_plans(billing)
    billing.get_or_create_customer("user_1")
    front.plays = [503]
    through_front.cancel("user_1", idempotency_key="cancel-user_1-2026-11")
    assert [seen.headers["Idempotency-Key"] for seen in front.seen] == [
        "cancel-user_1-2026-11"] * 2


def test_reads_carry_no_idempotency_key(billing, through_front, front):
    sell_plans(billing)
    billing.get_or_create_customer("user_1")
    through_front.check("user_1", "messages")
    through_front.preview_attach("user_1", "pro")
    assert all("Idempotency-Key" not in seen.headers for seen in front.seen)


def test_a_server_that_does_not_answer_in_time_is_a_timeout(keys):
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections, never answers
    try:
        client = CyncoBilling(keys.secret_test, timeout=0.3,
                              base_url=f"http://127.0.0.1:{silent.getsockname()[1]}",
                              retry=RetryPolicy(max_retries=1, backoff_base=0.01))
        started = time.monotonic()
        with pytest.raises(CyncoBillingError) as timed_out:
            client.list_products()
        assert timed_out.value.code == "TIMEOUT" and timed_out.value.status is None
        assert 0.6 <= time.monotonic() - started < 5
    finally:
        silent.close()


def test_a_refused_connection_is_a_network_error_after_the_retries(keys):
    import socket

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    client = CyncoBilling(keys.secret_test, base_url=f"http://127.0.0.1:{port}", retry=QUICK)
    with pytest.raises(CyncoBillingError) as refused:
        client.list_products()
    assert refused.value.code == "NETWORK_ERROR"


@pytest.mark.anyio
async def test_the_async_client_retries_the_same_way(keys, front, billing_server):
    front.plays = [503, 429]
    async with AsyncCyncoBilling(keys.secret_test, base_url=front.url, retry=QUICK) as client:
        assert (await client.list_products()).total == 0
    assert len(front.seen) == 3


def test_backoff_grows_with_full_jitter_up_to_its_ceiling():
    policy = RetryPolicy(backoff_base=0.5, backoff_max=8.0)
    for attempt, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (5, 8.0), (9, 8.0)]:
        waits = [policy.backoff(attempt) for _ in range(200)]
        assert all(0 <= wait <= ceiling for wait in waits)
        assert max(waits) > ceiling * 0.7 and min(waits) < ceiling * 0.3  # spread out

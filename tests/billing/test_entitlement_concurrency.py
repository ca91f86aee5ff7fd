"""Concurrent check, track and locks on one customer never lose or double a unit (API.md,
Concurrency). Real threads against PostgreSQL, through the API as the client calls it."""

import random
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from billing.models import Balance, BalanceLock, UsageEvent
from tests.billing.entitlements import CHECK, FINALIZE, TRACK, customer_on, metered, plan
from tests.factories import Api, make_merchant

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20


def concurrently(key: str, calls: list[tuple[str, dict]]) -> list[dict]:
    """POST every (path, body) of `calls` from THREADS threads (each takes every THREADS-th
    call, in turn, and closes its database connections when done); the answers' data."""

    def worker(start: int) -> list[tuple[int, dict]]:
        client = Api(key)
        answers = []
        try:
            for index in range(start, len(calls), THREADS):
                response = client.post(*calls[index])
                assert response.status_code == 200, response.content
                answers.append((index, response.json()["data"]))
        finally:
            connections.close_all()
        return answers

    with ThreadPoolExecutor(THREADS) as pool:
        done = [pair for chunk in pool.map(worker, range(THREADS)) for pair in chunk]
    return [data for _, data in sorted(done, key=lambda pair: pair[0])]


@pytest.fixture
def shop():
    merchant = make_merchant()
    api = Api(merchant.secret_test)
    plan(api, "pro", metered("messages", 50))
    plan(api, "meter", metered("calls", 10, overageAllowed=True))
    customer_on(api, merchant, "pro")
    return merchant


def test_100_concurrent_checks_with_send_event_on_50_allow_exactly_50(shop):
    body = {"customer": "user_1", "feature": "messages", "sendEvent": True}
    answers = concurrently(shop.secret_test, [(CHECK, body)] * 100)
    assert sum(a["allowed"] for a in answers) == 50
    balance = Balance.objects.get(feature__slug="messages")
    assert (balance.granted - balance.used, balance.used) == (0, 50)
    assert UsageEvent.objects.filter(source="check").count() == 50
    assert sorted(a["balance"] for a in answers if a["allowed"]) == list(range(50))


def test_1000_concurrent_tracks_of_one_count_exactly_1000(shop):
    customer_on(Api(shop.secret_test), shop, "meter", "hot")
    body = {"customer": "hot", "feature": "calls"}
    answers = concurrently(shop.secret_test, [(TRACK, body)] * 1000)
    assert all(a["recorded"] for a in answers)
    balance = Balance.objects.get(feature__slug="calls")
    assert balance.used == 1000
    assert UsageEvent.objects.filter(feature__slug="calls").count() == 1000
    assert sorted(a["balance"] for a in answers) == list(range(10 - 1000, 10))


def test_20_concurrent_tracks_with_one_idempotency_key_count_once(shop):
    body = {"customer": "user_1", "feature": "messages", "amount": 3,
            "idempotencyKey": "req_abc"}
    answers = concurrently(shop.secret_test, [(TRACK, body)] * 20)
    assert sum(a["recorded"] for a in answers) == 1
    assert sum(a["duplicate"] for a in answers) == 19
    assert Balance.objects.get(feature__slug="messages").used == 3
    assert UsageEvent.objects.count() == 1


def test_a_mix_of_locks_confirms_and_releases_keeps_the_books_straight(shop):
    """granted - used - reserved is what is left, and used and reserved are exactly the sums of
    the confirmed and the open locks, whatever order the threads ran in."""
    key = shop.secret_test
    expires = int((time.time() + 600) * 1000)
    lock_calls = [(CHECK, {"customer": "user_1", "feature": "messages", "requiredBalance": 2,
                           "lock": {"enabled": True, "lockId": f"job_{n}",
                                    "expiresAt": expires}}) for n in range(40)]
    held = [a["lockId"] for a in concurrently(key, lock_calls) if a["allowed"]]
    assert len(held) == 25  # 50 / 2
    rng = random.Random(5)
    finals = [(FINALIZE, {"lockId": lock_id, "action": rng.choice(["confirm", "release"]),
                          **({"overrideValue": rng.choice([0, 1, 2, 3])}
                             if rng.random() < 0.5 else {})})
              for lock_id in held[:20]]
    more = [(TRACK, {"customer": "user_1", "feature": "messages"})] * 10
    mixed = finals + more
    rng.shuffle(mixed)
    concurrently(key, mixed)
    balance = Balance.objects.get(feature__slug="messages")
    locks = BalanceLock.objects.all()
    confirmed = sum(lock.used for lock in locks if lock.status == "confirmed")
    open_amount = sum(lock.amount for lock in locks if lock.status == "open")
    assert balance.reserved == open_amount == 10
    assert balance.used == confirmed + 10
    assert balance.used == sum(e.amount for e in UsageEvent.objects.all())

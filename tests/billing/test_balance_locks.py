"""check with `lock`, `/balances/finalize`, and expired locks given back (API.md)."""

import time

import pytest

from billing.models import BalanceLock, UsageEvent
from billing.services.balance_locks import balance_locks_release_expired
from cynco import clock
from tests.billing.entitlements import (
    CHECK, FINALIZE, check, customer_on, metered, plan, test_scope,
)
from tests.factories import Api, data_of, error_of

pytestmark = pytest.mark.django_db


def in_ms(seconds: float) -> int:
    return int((time.time() + seconds) * 1000)


def lock(api, amount=1, customer="user_1", lock_id=None, seconds=60, **options):
    body = {"enabled": True, "expiresAt": in_ms(seconds)}
    if lock_id:
        body["lockId"] = lock_id
    return check(api, "credits", customer, requiredBalance=amount, lock=body, **options)


def finalize(api, lock_id, action="confirm", status=200, **options):
    response = api.post(FINALIZE, {"lockId": lock_id, "action": action, **options})
    if status != 200:
        assert response.status_code == status, response.content
        return error_of(response)
    return data_of(response)


@pytest.fixture
def credits(api, merchant):
    plan(api, "ai", metered("credits", 10))
    customer_on(api, merchant, "ai")


def test_a_lock_reserves_and_counts_as_used_while_open(api, credits):
    held = lock(api, 4)
    assert held["lockId"].startswith("lock_") and held["allowed"] is True
    assert (held["balance"], held["usage"]) == (6, 4)
    assert check(api, "credits", requiredBalance=7)["allowed"] is False
    assert UsageEvent.objects.count() == 0


def test_the_clients_own_lock_id_is_used_and_must_be_unique(api, credits):
    assert lock(api, lock_id="lock_123")["lockId"] == "lock_123"
    response = api.post(CHECK, {"customer": "user_1", "feature": "credits",
                                "lock": {"enabled": True, "lockId": "lock_123",
                                         "expiresAt": in_ms(60)}})
    assert response.status_code == 409 and error_of(response)["code"] == "CONFLICT"


def test_a_lock_that_is_not_allowed_reserves_nothing(api, credits):
    refused = lock(api, 11)
    assert (refused["allowed"], refused["lockId"], refused["usage"]) == (False, None, 0)
    assert BalanceLock.objects.count() == 0


def test_send_event_beside_lock_changes_nothing(api, credits):
    held = lock(api, 3, sendEvent=True)
    assert (held["balance"], held["usage"]) == (7, 3)
    assert UsageEvent.objects.count() == 0


def test_confirm_records_the_reserved_amount_by_default(api, credits):
    held = lock(api, 3)
    assert finalize(api, held["lockId"]) == {"success": True, "adjusted": 0}
    result = check(api, "credits")
    assert (result["balance"], result["usage"]) == (7, 3)
    assert [e.amount for e in UsageEvent.objects.filter(source="lock")] == [3]


def test_confirm_with_an_override_returns_the_rest_or_goes_negative(api, credits):
    assert finalize(api, lock(api, 3)["lockId"], overrideValue=1.5)["adjusted"] == 1.5
    assert finalize(api, lock(api, 2)["lockId"], overrideValue=5)["adjusted"] == -3
    assert check(api, "credits")["usage"] == 6.5


def test_release_returns_all_of_it(api, credits):
    held = lock(api, 4)
    assert finalize(api, held["lockId"], "release") == {"success": True, "adjusted": 4}
    assert check(api, "credits")["balance"] == 10
    assert UsageEvent.objects.count() == 0


def test_finalizing_twice_is_409(api, credits):
    held = lock(api)
    finalize(api, held["lockId"])
    for action in ("confirm", "release"):
        assert finalize(api, held["lockId"], action, 409)["code"] == "LOCK_ALREADY_FINALIZED"
    assert check(api, "credits")["usage"] == 1


def test_after_expiry_finalize_is_410_and_the_reservation_is_back(api, merchant, credits):
    held = lock(api, 5, seconds=30)
    clock.advance(scope=test_scope(merchant), seconds=31)
    assert finalize(api, held["lockId"], status=410)["code"] == "LOCK_EXPIRED"
    assert finalize(api, held["lockId"], status=410)["code"] == "LOCK_EXPIRED"
    assert check(api, "credits")["balance"] == 10


def test_a_check_after_expiry_sees_the_reservation_back(api, merchant, credits):
    lock(api, 5, seconds=30)
    clock.advance(scope=test_scope(merchant), seconds=31)
    assert check(api, "credits")["balance"] == 10
    assert check(api, "credits", requiredBalance=10, sendEvent=True)["allowed"] is True


def test_the_ttl_is_applied_on_the_environments_clock(api, merchant, credits):
    clock.advance(scope=test_scope(merchant), seconds=86400 * 3)  # the test clock runs ahead
    held = lock(api, 2, seconds=60)
    clock.advance(scope=test_scope(merchant), seconds=50)
    assert finalize(api, held["lockId"])["success"] is True


def test_the_ttl_is_at_most_24_hours_and_at_least_one_second(api, merchant, credits):
    far = lock(api, 1, seconds=86400 * 5)
    past = lock(api, 1, seconds=-3600)
    assert check(api, "credits")["usage"] == 2
    clock.advance(scope=test_scope(merchant), seconds=2)
    assert finalize(api, past["lockId"], status=410)["code"] == "LOCK_EXPIRED"
    clock.advance(scope=test_scope(merchant), seconds=86400)
    assert finalize(api, far["lockId"], status=410)["code"] == "LOCK_EXPIRED"


def test_the_beat_job_gives_back_expired_locks(api, merchant, credits):
    for _ in range(3):
        lock(api, 2, seconds=10)
    kept = lock(api, 1, seconds=3600)
    clock.advance(scope=test_scope(merchant), seconds=11)
    assert balance_locks_release_expired(batch_size=2) == 3
    assert balance_locks_release_expired() == 0
    assert BalanceLock.objects.filter(status="expired").count() == 3
    assert check(api, "credits")["balance"] == 9
    assert finalize(api, kept["lockId"])["success"] is True


def test_a_lock_id_of_two_customers_needs_the_customer(api, merchant):
    plan(api, "ai", metered("credits", 10))
    customer_on(api, merchant, "ai", "a")
    customer_on(api, merchant, "ai", "b")
    lock(api, 1, "a", lock_id="job_1")
    lock(api, 2, "b", lock_id="job_1")
    assert finalize(api, "job_1", status=409)["code"] == "CONFLICT"
    assert finalize(api, "job_1", customer="b")["success"] is True
    assert check(api, "credits", "b")["usage"] == 2 and check(api, "credits", "a")["usage"] == 1


@pytest.mark.parametrize("body, field", [
    ({"action": "confirm"}, "lockId"),
    ({"lockId": "x"}, "action"),
    ({"lockId": 1, "action": "confirm"}, "lockId"),
    ({"lockId": "x", "action": "cancel"}, "action"),
    ({"lockId": "x", "action": 1}, "action"),
    ({"lockId": "x", "action": "confirm", "overrideValue": -1}, "overrideValue"),
    ({"lockId": "x", "action": "confirm", "overrideValue": "1"}, "overrideValue"),
    ({"lockId": "x", "action": "confirm", "overrideValue": 1e15}, "overrideValue"),
])
def test_bad_finalize_input_is_a_422(api, credits, body, field):
    response = api.post(FINALIZE, body)
    assert response.status_code == 422
    assert field in [d["field"] for d in error_of(response)["details"]]


def test_finalize_needs_a_secret_key_of_the_same_merchant_and_environment(
        api, public_api, live_api, other_merchant, credits):
    held = lock(api)
    body = {"lockId": held["lockId"], "action": "release"}
    assert Api(None).post(FINALIZE, body).status_code == 401
    assert public_api.post(FINALIZE, body).status_code == 403
    assert Api(other_merchant.secret_test).post(FINALIZE, body).status_code == 404
    assert live_api.post(FINALIZE, body).status_code == 404
    assert finalize(api, "lock_unknown", status=404)["code"] == "NOT_FOUND"
    assert finalize(api, held["lockId"], "release")["adjusted"] == 1

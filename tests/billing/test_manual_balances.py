"""`/balances/create` and `/balances/update`: a merchant's own grants and corrections."""

import pytest

from billing.models import UsageEvent
from cynco import clock
from tests.billing.entitlements import (
    BALANCES_CREATE, BALANCES_UPDATE, check, customer_on, metered, plan, test_scope, track,
)
from tests.factories import Api, data_of, error_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def pro(api, merchant):
    plan(api, "pro", metered("messages", 100))
    customer_on(api, merchant, "pro")


def test_a_granted_balance_adds_to_the_plan(api, pro):
    result = data_of(api.post(BALANCES_CREATE, {"customer": "user_1", "feature": "messages",
                                                "grantedBalance": 500}))
    assert result["id"].startswith("pbal_") and result["customerId"].startswith("pcm_")
    assert (result["featureId"], result["balance"], result["granted"], result["usage"],
            result["limit"], result["unlimited"]) == ("messages", 600, 600, 0, 600, False)
    assert check(api, "messages")["balance"] == 600


def test_a_one_off_grant_survives_the_reset_less_what_was_spent_beyond_the_plan(
        api, merchant, pro):
    api.post(BALANCES_CREATE, {"customer": "user_1", "feature": "messages",
                                "grantedBalance": 50, "resetInterval": "one_off"})
    track(api, "messages", amount=120)
    clock.advance(scope=test_scope(merchant), seconds=32 * 86400)
    result = check(api, "messages")
    assert (result["granted"], result["usage"]) == (130, 0)


def test_a_monthly_grant_comes_back_every_month(api, merchant):
    plan(api, "other", metered("messages", 1))
    api.post("/api/v1/pay/customers", {"customerId": "user_1"})
    api.post(BALANCES_CREATE, {"customer": "user_1", "feature": "messages",
                                "grantedBalance": 10, "resetInterval": "month"})
    track(api, "messages", amount=10)
    assert check(api, "messages")["balance"] == 0
    clock.advance(scope=test_scope(merchant), seconds=32 * 86400)
    assert check(api, "messages")["balance"] == 10


def test_setting_usage_or_balance_is_recorded_as_an_adjustment(api, pro):
    track(api, "messages", amount=10)
    result = data_of(api.post(BALANCES_UPDATE, {"customer": "user_1", "feature": "messages",
                                                "usage": 4}))
    assert (result["usage"], result["balance"]) == (4, 96)
    result = data_of(api.post(BALANCES_UPDATE, {"customer": "user_1", "feature": "messages",
                                                "balance": 100}))
    assert (result["usage"], result["balance"]) == (0, 100)
    result = data_of(api.post(BALANCES_UPDATE, {"customer": "user_1", "feature": "messages",
                                                "balance": 150}))
    assert (result["usage"], result["balance"], result["granted"]) == (0, 150, 150)
    assert sum(e.amount for e in UsageEvent.objects.all()) == 0


@pytest.mark.parametrize("path, body, field", [
    (BALANCES_CREATE, {"feature": "messages", "grantedBalance": 1}, "customer"),
    (BALANCES_CREATE, {"customer": "user_1", "grantedBalance": 1}, "feature"),
    (BALANCES_CREATE, {"customer": "user_1", "feature": "messages"}, "grantedBalance"),
    (BALANCES_CREATE, {"customer": "user_1", "feature": "messages", "grantedBalance": "5"},
     "grantedBalance"),
    (BALANCES_CREATE, {"customer": "user_1", "feature": "messages", "grantedBalance": -5},
     "grantedBalance"),
    (BALANCES_CREATE, {"customer": "user_1", "feature": "messages", "grantedBalance": 5,
                       "resetInterval": "weekly"}, "resetInterval"),
    (BALANCES_UPDATE, {"customer": "user_1", "feature": "messages"}, "body"),
    (BALANCES_UPDATE, {"customer": "user_1", "feature": "messages", "usage": 1,
                       "balance": 2}, "body"),
    (BALANCES_UPDATE, {"customer": "user_1", "feature": "messages", "usage": -1}, "usage"),
    (BALANCES_UPDATE, {"customer": "user_1", "feature": "messages", "balance": "1"},
     "balance"),
    (BALANCES_UPDATE, {"customer": "user_1", "feature": "messages", "balance": 1e15},
     "balance"),
])
def test_bad_balance_input_is_a_422(api, pro, path, body, field):
    response = api.post(path, body)
    assert response.status_code == 422, response.content
    assert field in [d["field"] for d in error_of(response)["details"]]
    assert check(api, "messages")["granted"] == 100


def test_balances_need_a_secret_key_and_stay_with_their_merchant(
        api, public_api, live_api, other_merchant, pro):
    body = {"customer": "user_1", "feature": "messages", "grantedBalance": 5}
    for path, payload in ((BALANCES_CREATE, body),
                          (BALANCES_UPDATE, {**body, "grantedBalance": None, "usage": 1})):
        payload = {k: v for k, v in payload.items() if v is not None}
        assert Api(None).post(path, payload).status_code == 401
        assert public_api.post(path, payload).status_code == 403
        assert error_of(Api(other_merchant.secret_test).post(path, payload))["code"] \
            == "CUSTOMER_NOT_FOUND"
        assert live_api.post(path, payload).status_code == 404
        assert error_of(api.post(path, {**payload, "feature": "nothing"}))["code"] \
            == "FEATURE_NOT_FOUND"
    assert check(api, "messages")["granted"] == 100

"""`/check`: may a customer use a feature now, and check+sendEvent (API.md, check)."""


import pytest

from billing.models import Balance, UsageEvent
from tests.billing.catalog import FREE, define
from tests.billing.entitlements import (
    CHECK, check, customer_on, metered, plan, state_of, switch, track,
)
from tests.factories import Api, error_of

pytestmark = pytest.mark.django_db


def test_a_new_customer_on_the_free_default_plan_has_100_messages(api, merchant):
    define(api, FREE)
    customer_on(api, merchant, None)
    assert check(api, "messages") == {
        "allowed": True, "balance": 100, "limit": 100, "granted": 100, "usage": 0,
        "unlimited": False, "overageAllowed": False,
    }
    assert state_of(api)["balances"]["messages"] == {
        "balance": 100, "remaining": 100, "limit": 100, "unlimited": False, "granted": 100,
        "usage": 0,
    }


def test_a_boolean_feature_is_allowed_only_when_a_plan_gives_it(api, merchant):
    plan(api, "pro", switch("sso"))
    plan(api, "basic", metered("messages", 10))
    customer_on(api, merchant, "basic", "without")
    customer_on(api, merchant, "pro", "with")
    nulls = {"balance": None, "limit": None, "granted": None, "usage": None,
             "unlimited": False, "overageAllowed": False}
    assert check(api, "sso", "with") == {"allowed": True, **nulls}
    assert check(api, "sso", "without") == {"allowed": False, **nulls}
    assert state_of(api, "with")["flags"] == {"sso": True}


def test_send_event_on_a_boolean_feature_is_a_validation_error(api, merchant):
    plan(api, "pro", switch("sso"))
    customer_on(api, merchant, "pro")
    error = error_of(api.post(CHECK, {"customer": "user_1", "feature": "sso",
                                      "sendEvent": True}))
    assert error["code"] == "VALIDATION_ERROR" and error["details"][0]["field"] == "sendEvent"


def test_granted_adds_up_every_active_plan_and_add_on(api, merchant):
    plan(api, "pro", metered("messages", 1000))
    plan(api, "boost", metered("messages", 250), isAddOn=True, amount=500)
    customer_on(api, merchant, "pro", quantity=2)
    customer_on(api, merchant, "boost")
    result = check(api, "messages")
    assert (result["granted"], result["limit"], result["balance"]) == (2250, 2250, 2250)


def test_check_with_send_event_deducts_and_records_the_usage(api, merchant):
    plan(api, "pro", metered("messages", 3))
    customer_on(api, merchant, "pro")
    first = check(api, "messages", sendEvent=True)
    assert (first["allowed"], first["balance"], first["usage"]) == (True, 2, 1)
    check(api, "messages", sendEvent=True)
    check(api, "messages", sendEvent=True)
    refused = check(api, "messages", sendEvent=True)
    assert (refused["allowed"], refused["balance"], refused["usage"]) == (False, 0, 3)
    assert UsageEvent.objects.filter(source="check").count() == 3


def test_a_plain_check_changes_nothing(api, merchant):
    plan(api, "pro", metered("messages", 3))
    customer_on(api, merchant, "pro")
    for _ in range(3):
        assert check(api, "messages")["balance"] == 3
    assert UsageEvent.objects.count() == 0


def test_required_balance_above_one_and_decimal_amounts(api, merchant):
    plan(api, "pro", metered("tokens", 10.5))
    customer_on(api, merchant, "pro")
    assert check(api, "tokens", requiredBalance=10.5)["allowed"] is True
    assert check(api, "tokens", requiredBalance=10.500001)["allowed"] is False
    after = check(api, "tokens", requiredBalance=2.25, sendEvent=True)
    assert (after["balance"], after["usage"]) == (8.25, 2.25)
    assert check(api, "tokens", requiredBalance=9)["allowed"] is False


def test_the_balance_may_go_negative_and_then_nothing_is_allowed(api, merchant):
    plan(api, "pro", metered("messages", 2))
    customer_on(api, merchant, "pro")
    track(api, "messages", amount=5)
    result = check(api, "messages")
    assert (result["allowed"], result["balance"], result["usage"]) == (False, -3, 5)


def test_an_unlimited_feature_is_always_allowed(api, merchant):
    plan(api, "ent", {"slug": "messages", "name": "Messages", "type": "metered",
                      "allowanceType": "unlimited"})
    customer_on(api, merchant, "ent")
    result = check(api, "messages", requiredBalance=10**9, sendEvent=True)
    assert result == {"allowed": True, "balance": None, "limit": None, "granted": None,
                      "usage": 10**9, "unlimited": True, "overageAllowed": False}


def test_overage_allowed_without_a_cap_keeps_allowing(api, merchant):
    plan(api, "payg", metered("calls", 1, overageAllowed=True, overagePrice=5))
    customer_on(api, merchant, "payg")
    for _ in range(3):
        assert check(api, "calls", sendEvent=True)["allowed"] is True
    result = check(api, "calls")
    assert (result["allowed"], result["balance"], result["overageAllowed"]) == (True, -2, True)


def test_overage_allowed_with_a_cap_stops_at_the_cap(api, merchant):
    plan(api, "payg", metered("calls", 1, overageAllowed=True, overagePrice=5))
    customer_on(api, merchant, "payg")
    api.post("/api/v1/pay/spend-caps", {"customer": "user_1", "feature": "calls",
                                        "capCents": 10})
    assert [check(api, "calls", sendEvent=True)["allowed"] for _ in range(4)] == [
        True, True, True, False]
    assert check(api, "calls")["usage"] == 3  # 2 units over at 5 = 10, the cap


def test_a_feature_no_plan_gives_is_not_allowed(api, merchant):
    plan(api, "pro", metered("messages", 10))
    plan(api, "other", metered("exports", 10))
    customer_on(api, merchant, "pro")
    assert check(api, "exports") == {"allowed": False, "balance": 0, "limit": 0, "granted": 0,
                                     "usage": 0, "unlimited": False, "overageAllowed": False}


def test_unknown_customer_and_unknown_feature_are_404(api, merchant):
    plan(api, "pro", metered("messages", 10))
    customer_on(api, merchant, "pro")
    response = api.post(CHECK, {"customer": "nobody", "feature": "messages"})
    assert response.status_code == 404 and error_of(response)["code"] == "CUSTOMER_NOT_FOUND"
    response = api.post(CHECK, {"customer": "user_1", "feature": "nothing"})
    assert response.status_code == 404 and error_of(response)["code"] == "FEATURE_NOT_FOUND"


def test_a_publishable_key_may_check_but_not_send_events_or_lock(api, public_api, merchant):
    plan(api, "pro", metered("messages", 10))
    customer_on(api, merchant, "pro")
    assert check(public_api, "messages")["balance"] == 10
    for options in ({"sendEvent": True}, {"lock": {"enabled": True, "expiresAt": 10**13}}):
        response = public_api.post(CHECK, {"customer": "user_1", "feature": "messages",
                                           **options})
        assert response.status_code == 403 and error_of(response)["code"] == "FORBIDDEN"
    assert Balance.objects.get(entity_key="").used == 0


@pytest.mark.parametrize("body, field", [
    ({"feature": "messages"}, "customer"),
    ({"customer": "user_1"}, "feature"),
    ({"customer": 1, "feature": "messages"}, "customer"),
    ({"customer": "user_1", "feature": ["messages"]}, "feature"),
    ({"customer": "user_1", "feature": "messages", "sendEvent": "yes"}, "sendEvent"),
    ({"customer": "user_1", "feature": "messages", "requiredBalance": "2"}, "requiredBalance"),
    ({"customer": "user_1", "feature": "messages", "requiredBalance": 0}, "requiredBalance"),
    ({"customer": "user_1", "feature": "messages", "requiredBalance": -1}, "requiredBalance"),
    ({"customer": "user_1", "feature": "messages", "requiredBalance": 1e15}, "requiredBalance"),
    ({"customer": "user_1", "feature": "messages", "requiredBalance": 0.0000001},
     "requiredBalance"),
    ({"customer": "user_1", "feature": "messages", "entityId": 5}, "entityId"),
    ({"customer": "user_1", "feature": "messages", "lock": True}, "lock"),
    ({"customer": "user_1", "feature": "messages", "lock": {"enabled": True}},
     "lock.expiresAt"),
    ({"customer": "user_1", "feature": "messages",
      "lock": {"enabled": True, "expiresAt": "soon"}}, "lock.expiresAt"),
    ({"customer": "user_1", "feature": "messages",
      "lock": {"enabled": True, "expiresAt": -5}}, "lock.expiresAt"),
    ({"customer": "user_1", "feature": "messages",
      "lock": {"enabled": True, "expiresAt": 10**20}}, "lock.expiresAt"),
    ({"customer": "user_1", "feature": "messages",
      "lock": {"enabled": "true", "expiresAt": 10**13}}, "lock.enabled"),
    ({"customer": "user_1", "feature": "messages",
      "lock": {"enabled": True, "lockId": 7, "expiresAt": 10**13}}, "lock.lockId"),
])
def test_bad_input_is_a_422_naming_the_field(api, merchant, body, field):
    plan(api, "pro", metered("messages", 10))
    customer_on(api, merchant, "pro")
    response = api.post(CHECK, body)
    assert response.status_code == 422, response.content
    error = error_of(response)
    assert error["code"] == "VALIDATION_ERROR"
    assert field in [d["field"] for d in error["details"]], error
    assert Balance.objects.get(entity_key="").used == 0


def test_no_key_is_401_and_other_merchants_and_live_see_nothing(api, merchant, other_merchant,
                                                                 live_api):
    plan(api, "pro", metered("messages", 10))
    customer_on(api, merchant, "pro")
    assert Api(None).post(CHECK, {"customer": "user_1", "feature": "messages"}).status_code \
        == 401
    other = Api(other_merchant.secret_test)
    response = other.post(CHECK, {"customer": "user_1", "feature": "messages"})
    assert response.status_code == 404 and error_of(response)["code"] == "CUSTOMER_NOT_FOUND"
    response = live_api.post(CHECK, {"customer": "user_1", "feature": "messages"})
    assert response.status_code == 404

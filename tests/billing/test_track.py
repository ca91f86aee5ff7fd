"""`/track`: recording usage that already happened (API.md, track)."""

import json

import pytest

from billing.models import Balance, OutgoingEvent, UsageEvent
from tests.billing.entitlements import (
    SPEND_CAPS, TRACK, check, customer_on, metered, plan, state_of, switch, track,
)
from tests.factories import Api, data_of, error_of

pytestmark = pytest.mark.django_db


def test_a_customer_on_pro_who_sends_three_messages_has_997_left(api, merchant):
    plan(api, "pro", metered("messages", 1000))
    customer_on(api, merchant, "pro")
    for _ in range(2):
        track(api, "messages")
    assert track(api, "messages") == {
        "recorded": True, "allowed": True, "balance": 997, "limit": 1000, "unlimited": False,
        "duplicate": False, "spendCapExceeded": False,
    }
    assert state_of(api)["balances"]["messages"]["usage"] == 3


def test_track_records_past_the_allowance_because_the_work_was_done(api, merchant):
    plan(api, "pro", metered("messages", 2))
    customer_on(api, merchant, "pro")
    result = track(api, "messages", amount=5)
    assert (result["recorded"], result["allowed"], result["balance"]) == (True, False, -3)


def test_a_negative_amount_corrects_usage_but_never_below_nothing(api, merchant):
    plan(api, "pro", metered("messages", 10))
    customer_on(api, merchant, "pro")
    track(api, "messages", amount=4)
    assert track(api, "messages", amount=-1.5)["balance"] == 7.5
    assert track(api, "messages", amount=-100)["balance"] == 10
    assert sum(e.amount for e in UsageEvent.objects.all()) == 0


def test_decimal_amounts_are_exact(api, merchant):
    plan(api, "ai", metered("tokens", 1))
    customer_on(api, merchant, "ai")
    for _ in range(10):
        track(api, "tokens", amount=0.1)
    assert track(api, "tokens", amount=0.000001)["balance"] == -0.000001


def test_an_idempotency_key_counts_once(api, merchant):
    plan(api, "pro", metered("messages", 10))
    customer_on(api, merchant, "pro")
    first = track(api, "messages", idempotencyKey="req_abc", amount=2)
    again = track(api, "messages", idempotencyKey="req_abc", amount=2)
    assert (first["recorded"], first["duplicate"]) == (True, False)
    assert again == {**first, "recorded": False, "duplicate": True}
    assert Balance.objects.get().used == 2


def test_the_same_idempotency_key_of_another_customer_is_its_own(api, merchant):
    plan(api, "pro", metered("messages", 10))
    customer_on(api, merchant, "pro", "a")
    customer_on(api, merchant, "pro", "b")
    track(api, "messages", "a", idempotencyKey="k")
    assert track(api, "messages", "b", idempotencyKey="k")["recorded"] is True


def test_track_refuses_only_past_the_spend_cap(api, merchant):
    plan(api, "payg", metered("calls", 10, overageAllowed=True, overagePrice=100))
    customer_on(api, merchant, "payg")
    data_of(api.post(SPEND_CAPS, {"customer": "user_1", "feature": "calls", "capCents": 250}))
    assert track(api, "calls", amount=12)["recorded"] is True  # 2 over: 200
    at_cap = track(api, "calls", amount=0.5)  # 250: exactly the cap, so nothing more
    assert (at_cap["recorded"], at_cap["allowed"]) == (True, False)
    refused = track(api, "calls", amount=0.1)
    assert refused == {"recorded": False, "allowed": False, "balance": -2.5, "limit": 10,
                       "unlimited": False, "duplicate": False, "spendCapExceeded": True}
    assert track(api, "calls", amount=-1)["recorded"] is True  # corrections always pass
    assert check(api, "calls")["usage"] == 11.5


def test_without_overage_there_is_no_cost_and_so_no_cap_refusal(api, merchant):
    plan(api, "pro", metered("calls", 1))
    customer_on(api, merchant, "pro")
    data_of(api.post(SPEND_CAPS, {"customer": "user_1", "feature": "calls", "capCents": 0}))
    assert track(api, "calls", amount=50)["recorded"] is True


def test_usage_of_a_feature_no_plan_gives_is_kept(api, merchant):
    plan(api, "pro", metered("messages", 10))
    plan(api, "other", metered("exports", 10))
    customer_on(api, merchant, "pro")
    assert track(api, "exports")["balance"] == -1
    assert state_of(api)["balances"]["exports"]["usage"] == 1


def test_unlimited_track_has_no_balance(api, merchant):
    plan(api, "ent", {"slug": "messages", "name": "Messages", "type": "metered",
                      "allowanceType": "unlimited"})
    customer_on(api, merchant, "ent")
    result = track(api, "messages", amount=1000)
    assert (result["balance"], result["limit"], result["unlimited"]) == (None, None, True)


def test_a_boolean_feature_cannot_be_tracked(api, merchant):
    plan(api, "pro", switch("sso"))
    customer_on(api, merchant, "pro")
    error = error_of(api.post(TRACK, {"customer": "user_1", "feature": "sso"}))
    assert error["code"] == "VALIDATION_ERROR" and error["details"][0]["field"] == "feature"


def test_a_publishable_key_tracks_only_with_the_track_scope(api, public_api, merchant):
    plan(api, "pro", metered("messages", 10))
    customer_on(api, merchant, "pro")
    response = public_api.post(TRACK, {"customer": "user_1", "feature": "messages"})
    assert response.status_code == 403 and error_of(response)["code"] == "FORBIDDEN"
    scoped = data_of(api.post("/api/v1/pay/api-keys", {"name": "browser",
                                                       "type": "publishable",
                                                       "scopes": ["track"]}), 201)
    assert track(Api(scoped["rawKey"]), "messages")["balance"] == 9


@pytest.mark.parametrize("body, field", [
    ({"feature": "messages"}, "customer"),
    ({"customer": "user_1"}, "feature"),
    ({"customer": None, "feature": "messages"}, "customer"),
    ({"customer": "user_1", "feature": 3}, "feature"),
    ({"customer": "user_1", "feature": "messages", "amount": "1"}, "amount"),
    ({"customer": "user_1", "feature": "messages", "amount": True}, "amount"),
    ({"customer": "user_1", "feature": "messages", "amount": 0}, "amount"),
    ({"customer": "user_1", "feature": "messages", "amount": 1e14}, "amount"),
    ({"customer": "user_1", "feature": "messages", "amount": 1.0000001}, "amount"),
    ({"customer": "user_1", "feature": "messages", "idempotencyKey": 1}, "idempotencyKey"),
    ({"customer": "user_1", "feature": "messages", "idempotencyKey": "k" * 256},
     "idempotencyKey"),
    ({"customer": "user_1", "feature": "messages", "metadata": [1]}, "metadata"),
    ({"customer": "user_1", "feature": "messages", "entityId": {}}, "entityId"),
])
def test_bad_input_is_a_422_naming_the_field(api, merchant, body, field):
    plan(api, "pro", metered("messages", 10))
    customer_on(api, merchant, "pro")
    response = api.post(TRACK, body)
    assert response.status_code == 422, response.content
    assert field in [d["field"] for d in error_of(response)["details"]]
    assert UsageEvent.objects.count() == 0


def test_no_key_other_merchant_and_live_are_kept_apart(api, merchant, other_merchant, live_api):
    plan(api, "pro", metered("messages", 10))
    customer_on(api, merchant, "pro")
    body = {"customer": "user_1", "feature": "messages"}
    assert Api(None).post(TRACK, body).status_code == 401
    assert error_of(Api(other_merchant.secret_test).post(TRACK, body))["code"] \
        == "CUSTOMER_NOT_FOUND"
    assert live_api.post(TRACK, body).status_code == 404
    response = api.post(TRACK, {"customer": "user_1", "feature": "nothing"})
    assert response.status_code == 404 and error_of(response)["code"] == "FEATURE_NOT_FOUND"
    assert UsageEvent.objects.count() == 0


def test_80_percent_and_exhaustion_are_announced_once_each_per_period(api, merchant):
    plan(api, "pro", metered("messages", 10))
    customer_on(api, merchant, "pro")
    track(api, "messages", amount=7)
    assert OutgoingEvent.objects.count() == 0
    track(api, "messages")
    track(api, "messages")
    check(api, "messages", sendEvent=True)
    track(api, "messages", amount=3)
    events = list(OutgoingEvent.objects.order_by("created_at", "id"))
    assert [e.type for e in events] == ["entitlement.threshold_reached",
                                        "entitlement.exhausted"]
    data = json.loads(events[0].payload)["data"]
    assert (data["feature"], data["externalId"], data["threshold"], data["usage"],
            data["balance"]) == ("messages", "user_1", 80, 8, 2)
    track(api, "messages", amount=-10)  # a correction re-arms them
    track(api, "messages", amount=9)
    assert OutgoingEvent.objects.count() == 3

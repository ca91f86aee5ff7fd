"""`/spend-caps`: the most a period's overage may cost, per customer or per product."""

import pytest

from tests.billing.entitlements import (
    SPEND_CAPS, check, customer_on, metered, plan, track,
)
from tests.factories import Api, data_of, error_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def payg(api, merchant):
    plan(api, "payg", metered("calls", 10, overageAllowed=True, overagePrice=3))
    customer_on(api, merchant, "payg")


def status(api, customer="user_1", feature="calls"):
    return data_of(api.get(SPEND_CAPS + f"?customer={customer}&feature={feature}"))


def test_a_cap_shows_what_overage_has_cost_this_period(api, payg):
    assert status(api) | {"customerId": None} == {
        "customerId": None, "featureId": "calls", "capCents": None, "accruedCents": 0,
        "remainingCents": None, "unlimited": True}
    set_ = data_of(api.post(SPEND_CAPS, {"customer": "user_1", "feature": "calls",
                                         "capCents": 100}))
    assert set_["customerId"].startswith("pcm_") and set_["capCents"] == 100
    track(api, "calls", amount=15.5)
    assert status(api) | {"customerId": None} == {
        "customerId": None, "featureId": "calls", "capCents": 100, "accruedCents": 17,
        "remainingCents": 83, "unlimited": False}


def test_removing_the_cap_lets_overage_run_again(api, payg):
    api.post(SPEND_CAPS, {"customer": "user_1", "feature": "calls", "capCents": 3})
    track(api, "calls", amount=11)
    assert check(api, "calls")["allowed"] is False
    removed = data_of(api.post(SPEND_CAPS, {"customer": "user_1", "feature": "calls",
                                            "capCents": None}))
    assert (removed["capCents"], removed["unlimited"]) == (None, True)
    assert check(api, "calls")["allowed"] is True


def test_a_product_cap_is_the_default_of_its_subscribers_and_a_customer_cap_wins(
        api, merchant, payg):
    customer_on(api, merchant, "payg", "user_2")
    result = data_of(api.post(SPEND_CAPS, {"scope": "product", "productId": "payg",
                                           "featureId": "calls", "capCents": 6}))
    assert (result["scope"], result["featureId"], result["capCents"]) == ("product", "calls",
                                                                          6)
    assert status(api, "user_2")["capCents"] == 6
    api.post(SPEND_CAPS, {"customer": "user_1", "feature": "calls", "capCents": 30})
    assert status(api)["capCents"] == 30
    assert track(api, "calls", "user_2", amount=13)["spendCapExceeded"] is True
    assert track(api, "calls", "user_1", amount=13)["recorded"] is True


@pytest.mark.parametrize("body, field", [
    ({"feature": "calls", "capCents": 1}, "customer"),
    ({"customer": "user_1", "capCents": 1}, "feature"),
    ({"customer": "user_1", "feature": "calls"}, "capCents"),
    ({"customer": "user_1", "feature": "calls", "capCents": "1"}, "capCents"),
    ({"customer": "user_1", "feature": "calls", "capCents": 1.5}, "capCents"),
    ({"customer": "user_1", "feature": "calls", "capCents": -1}, "capCents"),
    ({"customer": "user_1", "feature": "calls", "capCents": 10**16}, "capCents"),
    ({"scope": "customer", "productId": "payg", "featureId": "calls", "capCents": 1}, "scope"),
    ({"scope": "product", "featureId": "calls", "capCents": 1}, "productId"),
    ({"scope": "product", "productId": "payg", "capCents": 1}, "featureId"),
])
def test_bad_spend_cap_input_is_a_422(api, payg, body, field):
    response = api.post(SPEND_CAPS, body)
    assert response.status_code == 422, response.content
    assert field in [d["field"] for d in error_of(response)["details"]]
    response = api.get(SPEND_CAPS + "?customer=user_1")
    assert response.status_code == 422 and error_of(response)["details"][0]["field"] \
        == "feature"


def test_spend_caps_need_a_secret_key_and_stay_with_their_merchant(
        api, public_api, live_api, other_merchant, payg):
    body = {"customer": "user_1", "feature": "calls", "capCents": 5}
    assert Api(None).post(SPEND_CAPS, body).status_code == 401
    assert public_api.post(SPEND_CAPS, body).status_code == 403
    assert public_api.get(SPEND_CAPS + "?customer=user_1&feature=calls").status_code == 403
    assert error_of(Api(other_merchant.secret_test).post(SPEND_CAPS, body))["code"] \
        == "CUSTOMER_NOT_FOUND"
    assert live_api.get(SPEND_CAPS + "?customer=user_1&feature=calls").status_code == 404
    assert error_of(api.post(SPEND_CAPS, {**body, "feature": "nope"}))["code"] \
        == "FEATURE_NOT_FOUND"
    response = api.post(SPEND_CAPS, {"scope": "product", "productId": "nope",
                                     "featureId": "calls", "capCents": 1})
    assert error_of(response)["code"] == "PRODUCT_NOT_FOUND"
    assert status(api)["capCents"] is None

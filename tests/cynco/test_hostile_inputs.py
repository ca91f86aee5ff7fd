"""Inputs found by a hostile run against a live server that used to answer 500.

A `metadata` object holding a fractional number (the parser reads it as a Decimal, which the
JSON column could not store) and JSON nested a thousand levels deep (Python's parser runs out of
stack) are answered like any other input: stored as sent, or refused with a 422 in the envelope.
"""

from __future__ import annotations

import json

import pytest

from cynco.parsers import MAX_JSON_DEPTH
from tests.billing.catalog import CUSTOMERS, PRO, PRODUCTS, define
from tests.billing.subscribing import customer, main_catalog, subscribe_paid
from tests.factories import data_of, error_of

pytestmark = pytest.mark.django_db(transaction=True)

URL = "https://example.com/ok"
FRACTIONS = {"score": 1.5, "hundred": 1e2, "nested": {"list": [0.25, {"deep": -3.75e-3}]}}
WRITES = [
    ("post", CUSTOMERS, {"customerId": "alice"}),
    ("put", CUSTOMERS, {"customerId": "user_1"}),
    ("post", PRODUCTS, {**PRO, "slug": "team", "name": "Team"}),
    ("post", PRODUCTS, PRO),  # a re-post of an existing product
    ("post", "/api/v1/pay/coupons", {"code": "HALF", "type": "percentage", "value": 50,
                                     "duration": "once"}),
    ("post", "/api/v1/pay/rewards", {"name": "R", "rewardType": "credit", "rewardValue": 100}),
    ("post", "/api/v1/pay/subscribe", {"customer": "user_1", "product": "enterprise",
                                       "successUrl": URL}),
    ("post", "/api/v1/pay/multi-attach", {"customer": "user_2", "successUrl": URL,
                                          "cancelUrl": URL, "products": [{"product": "pro"}]}),
    ("post", "/api/v1/pay/track", {"customer": "user_1", "feature": "messages"}),
]


@pytest.fixture
def shop(api):
    main_catalog(api)
    customer(api)
    customer(api, "user_2")
    subscribe_paid(api, "pro")
    return api


def _sent(api, method: str, path: str, body: dict):
    raw = json.dumps(body)  # 1e2 is written as 100.0, 1.5 as 1.5: both parse to Decimal
    return api.call(method, path, raw=raw)


@pytest.mark.parametrize("method,path,body", WRITES, ids=lambda v: str(v)[:40])
def test_metadata_with_fractional_numbers_is_stored_not_a_500(shop, method, path, body):
    response = _sent(shop, method, path, {**body, "metadata": FRACTIONS})
    assert response.status_code < 300, response.content[:500]


def test_customer_metadata_comes_back_as_the_numbers_sent(shop):
    raw = '{"customerId": "alice", "metadata": {"score": 1.5, "e": 1e2, "big": 12345678901234567890}}'
    data_of(shop.post(CUSTOMERS, raw=raw), 201)
    metadata = data_of(shop.get(f"{CUSTOMERS}?id=alice"))["metadata"]
    assert metadata == {"score": 1.5, "e": 100, "big": 12345678901234567890}


def test_a_coupon_patch_with_fractional_metadata_is_stored(shop):
    coupon = data_of(shop.post("/api/v1/pay/coupons", {"code": "HALF", "type": "percentage",
                                                       "value": 50, "duration": "once"}), 201)
    response = shop.patch(f"/api/v1/pay/coupons/{coupon['id']}", {"metadata": {"rate": 0.5}})
    assert data_of(response)["metadata"] == {"rate": 0.5}


def test_an_entity_with_fractional_metadata_is_stored(api):
    define(api, {"name": "Seats", "slug": "seats", "prices": [{"type": "recurring",
               "billingInterval": "month", "amount": 0}],
               "features": [{"slug": "seats", "name": "Seats", "type": "metered",
                             "allowanceType": "fixed", "allowance": 5}]})
    customer(api)
    data_of(api.post("/api/v1/pay/subscribe", {"customer": "user_1", "product": "seats"}))
    response = api.post("/api/v1/pay/entities", {"customer": "user_1", "entityId": "e1",
                                                 "featureId": "seats",
                                                 "metadata": {"weight": 0.75}})
    assert response.status_code in (200, 201), response.content[:500]
    assert response.json()["data"]["metadata"] == {"weight": 0.75}


def test_a_number_beyond_a_double_in_metadata_is_422(shop):
    response = shop.post(CUSTOMERS, raw='{"customerId": "bob", "metadata": {"x": 1e400}}')
    assert response.status_code == 422
    assert error_of(response)["details"][0]["field"].startswith("metadata")


def _nested(depth: int, leaf="1") -> str:
    return "[" * depth + leaf + "]" * depth


@pytest.mark.parametrize("path,template", [
    ("/api/v1/pay/track", '{"customer": "user_1", "feature": "messages", "metadata": {"x": %s}}'),
    ("/api/v1/pay/check", '{"customer": "user_1", "feature": "messages", "lock": %s}'),
    (CUSTOMERS, '{"customerId": "user_1", "metadata": {"x": %s}}'),
    ("/api/v1/pay/products", "%s"),
])
@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000, 100_000])
def test_json_nested_too_deep_is_422(shop, path, template, depth):
    method = "put" if path == CUSTOMERS else "post"
    response = shop.call(method, path, raw=template % _nested(depth))
    assert response.status_code == 422, response.content[:300]
    error = error_of(response)
    assert error["code"] == "VALIDATION_ERROR"
    assert f"{MAX_JSON_DEPTH}" in error["message"]


def test_objects_nested_too_deep_are_422_too(shop):
    raw = '{"customerId": "user_1", "metadata": ' + '{"a": ' * 2000 + "1" + "}" * 2001
    response = shop.put(CUSTOMERS, raw=raw)
    assert response.status_code == 422
    assert error_of(response)["code"] == "VALIDATION_ERROR"


def test_nesting_up_to_the_limit_is_accepted(shop):
    # The body object itself is one level, metadata a second, its value the rest.
    raw = '{"customerId": "user_1", "metadata": {"x": %s}}' % _nested(MAX_JSON_DEPTH - 2)
    response = shop.put(CUSTOMERS, raw=raw)
    assert response.status_code == 200, response.content[:300]


def test_brackets_inside_strings_do_not_count_as_nesting(shop):
    raw = json.dumps({"customerId": "user_1", "metadata": {"note": "[" * 5000 + "{" * 5000}})
    assert shop.put(CUSTOMERS, raw=raw).status_code == 200

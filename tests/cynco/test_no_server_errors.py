"""No input gets a 500: every route under /api/v1/ is called with generated bodies and query
strings — the API's own field names with values of every JSON type, out-of-range numbers,
other merchants' and made-up ids, malformed JSON — against a merchant with a catalog, a
customer on a paid plan and a saved card, and each answer must be a 2xx/4xx in the envelope
of API.md (a 4xx with code, message and details).

The routes are read from the URLconf, so a new endpoint is covered without editing this file.
"""

from __future__ import annotations

import json
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cynco.parsers import MAX_JSON_DEPTH
from tests.billing.subscribing import customer, main_catalog, subscribe_paid
from tests.factories import Api, data_of

pytestmark = pytest.mark.django_db(transaction=True)
METHODS = ("get", "post", "put", "patch", "delete")
# Field names the API reads somewhere (API.md); bodies are built from these.
FIELDS = [
    "customer", "customerId", "product", "products", "feature", "featureId", "amount",
    "quantity", "priceId", "successUrl", "cancelUrl", "couponCode", "metadata", "email", "name",
    "id", "entityId", "requiredBalance", "sendEvent", "lock", "expiresAt", "lockId", "action",
    "overrideValue", "idempotencyKey", "grantedBalance", "resetInterval", "usage", "balance",
    "cancelAction", "pauseAction", "resumeAt", "prorationBehavior", "immediate", "reason",
    "code", "type", "value", "duration", "durationMonths", "maxRedemptions", "url", "events",
    "slug", "prices", "features", "interval", "intervalCount", "tiers", "tiersMode", "currency",
    "capCents", "range", "groupBy", "seconds", "to", "card", "scopes", "environment", "version",
    "migrateCustomers", "rewardType", "rewardValue", "referrer", "referralCode",
    "carryOverBalances", "carryOverUsages", "billingAnchorDay", "trialDays", "limit",
    "offset", "status", "from", "period", "source", "asOf", "view", "months", "enabled",
    "featureIds", "groupSlug", "isAddOn", "isDefault", "allowance", "allowanceType",
]
KNOWN = ["user_1", "user_2", "pro", "free", "enterprise", "messages", "premium_support",
         "pcm_00000000000000000000000000", "psub_00000000000000000000000000",
         "pinv_00000000000000000000000000", "month", "year", "day", "one_off", "MYR",
         "2026-11-01", "2026-11-01T00:00:00Z", "https://example.com/ok", "SAVE20",
         "cancel_immediately", "pause", "confirm", "release", "percentage", "once", "30d"]


class RawNumber(float):
    """A number written into the body exactly as given (`1e2`, `-0.000001`, `1E400`), as a
    client may write it; the parser reads every fraction and exponent as a Decimal."""

    def __new__(cls, text: str):
        number = super().__new__(cls, float(text))
        number.text = text
        return number

    def __repr__(self):
        return self.text


class Deep(list):
    """JSON nested `depth` levels (arrays or objects), around the parser's limit or far past
    Python's recursion limit; written by `encoded` without recursing."""

    def __init__(self, depth: int, kind: str):
        super().__init__()
        self.depth, self.kind = depth, kind


raw_numbers = st.one_of(
    st.integers(0, 12).flatmap(lambda places: st.decimals(
        allow_nan=False, allow_infinity=False, places=places)).map(
        lambda d: RawNumber(str(d) if "E" in str(d) or "." in str(d) else str(d) + ".0")),
    st.sampled_from(["1e2", "1E400", "-1e-400", "1.5", "0.000001", "123456789.1234567",
                     "1e308", "-0.0", "9007199254740993.5"]).map(RawNumber),
)
deep = st.builds(Deep, st.sampled_from([MAX_JSON_DEPTH - 3, MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1,
                                        1000, 5000]), st.sampled_from(["[]", "{}"]))
scalars = st.one_of(
    st.none(), st.booleans(), st.sampled_from(KNOWN), st.text(max_size=30),
    st.integers(min_value=-(10**20), max_value=10**20), st.integers(-3, 100),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(["1e400", "NaN", ""]),
    raw_numbers,
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), inner,
                    max_size=4)), max_leaves=8)
# What a free-form field (metadata) may hold: every JSON type, nested objects holding
# fractions and exponents, and nesting near and far past the limit.
free_form = st.one_of(
    st.dictionaries(st.text(max_size=8), st.recursive(
        scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                         st.dictionaries(st.text(max_size=6), inner, max_size=3)),
        max_leaves=10), max_size=5),
    st.dictionaries(st.text(max_size=8), deep, min_size=1, max_size=2),
    deep, values,
)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=8),
    values, free_form,
)
queries = st.dictionaries(st.sampled_from(FIELDS), st.one_of(st.sampled_from(KNOWN),
                                                            st.text(max_size=12)), max_size=4)
raw_bodies = st.one_of(st.binary(max_size=40),
                       st.sampled_from([b"{", b"[1,", b'{"a": NaN}', b"\xff\xfe", b"null"]))


URL = "https://example.com/ok"
# A body each route accepts (for the fixture's merchant); mutated ones reach deeper code.
VALID = {
    "/api/v1/pay/check": {"customer": "user_1", "feature": "messages", "requiredBalance": 2,
                          "sendEvent": True},
    "/api/v1/pay/track": {"customer": "user_1", "feature": "messages", "amount": 1.5,
                          "idempotencyKey": "k1"},
    "/api/v1/pay/subscribe": {"customer": "user_1", "product": "enterprise", "successUrl": URL,
                              "quantity": 1, "billingAnchorDay": 5,
                              "carryOverUsages": {"enabled": True}},
    "/api/v1/pay/multi-attach": {"customer": "user_2", "successUrl": URL, "cancelUrl": URL,
                                 "products": [{"product": "pro", "quantity": 1}]},
    "/api/v1/pay/preview": {"customer": "user_1", "product": "enterprise"},
    "/api/v1/pay/cancel": {"customer": "user_1", "product": "pro", "immediate": True},
    "/api/v1/pay/subscriptions/update": {"customer": "user_1", "product": "pro",
                                         "quantity": 2},
    "/api/v1/pay/subscriptions/preview-update": {"customer": "user_1", "product": "pro",
                                                 "cancelAction": "cancel_immediately"},
    "/api/v1/pay/balances/create": {"customer": "user_1", "feature": "messages",
                                    "grantedBalance": 10, "resetInterval": "month"},
    "/api/v1/pay/balances/update": {"customer": "user_1", "feature": "messages", "usage": 3},
    "/api/v1/pay/balances/finalize": {"lockId": "lock_1", "action": "confirm",
                                      "overrideValue": 1},
    "/api/v1/pay/customers": {"customerId": "user_9", "email": "a@example.com", "name": "A"},
    "/api/v1/pay/entities": {"customer": "user_1", "entityId": "seat_1",
                             "featureId": "messages"},
    "/api/v1/pay/events": {"customer": "user_1", "feature": "messages", "range": "7d",
                           "groupBy": "day"},
    "/api/v1/pay/coupons": {"code": "HALF2", "type": "percentage", "value": 50,
                            "duration": "repeating", "durationMonths": 2},
    "/api/v1/pay/coupons/validate": {"code": "SAVE20", "customer": "user_1",
                                     "product": "pro", "amount": 2000},
    "/api/v1/pay/products": {"name": "Team", "slug": "team", "groupSlug": "main",
                             "prices": [{"type": "recurring", "billingInterval": "month",
                                         "amount": 900, "tiersMode": "graduated",
                                         "tiers": [{"upTo": 5, "unitAmount": 100},
                                                   {"upTo": None, "unitAmount": 50}]}],
                             "features": [{"slug": "messages", "name": "Messages",
                                           "type": "metered", "allowanceType": "fixed",
                                           "allowance": 10}]},
    "/api/v1/pay/products/versions": {"productId": "pro", "versionId": "pver_x"},
    "/api/v1/pay/webhooks": {"url": "https://example.com/hook",
                             "events": ["subscription.created"]},
    "/api/v1/pay/spend-caps": {"customer": "user_1", "feature": "messages", "capCents": 100},
    "/api/v1/pay/api-keys": {"name": "k", "type": "publishable", "scopes": ["track"]},
    "/api/v1/pay/rewards": {"name": "R", "rewardType": "credit", "rewardValue": 100},
    "/api/v1/pay/test/clock/advance": {"seconds": 3600},
    "/api/v1/pay/coupons/{id}": {"name": "Half"},
}
# Routes with a free-form `metadata`: their valid body carries one with a fraction in it.
for _path in ("track", "subscribe", "multi-attach", "customers", "entities", "coupons",
              "coupons/{id}", "products", "rewards"):
    VALID[f"/api/v1/pay/{_path}"]["metadata"] = {"score": RawNumber("1.5"),
                                                 "nested": [{"e": RawNumber("1e2")}]}


def encoded(value) -> str:
    """`value` as JSON text, RawNumber and Deep written as they are meant."""
    if isinstance(value, RawNumber):
        return value.text
    if isinstance(value, Deep):
        opening, leaf, closing = ("[", "1", "]") if value.kind == "[]" else ('{"a":', "1", "}")
        return opening * value.depth + leaf + closing * value.depth
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{encoded(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(encoded(item) for item in value) + "]"
    return json.dumps(value)


def mutated(valid: dict):
    """`valid` with up to three changes: a field dropped, a value replaced by anything, an
    unknown field added, `metadata` set to any free-form value."""
    def apply(draw_changes):
        body = dict(valid)
        for kind, key, value, free in draw_changes:
            if kind == "drop" and body:
                body.pop(sorted(body)[key % len(body)])
            elif kind == "replace" and body:
                body[sorted(body)[key % len(body)]] = value
            elif kind == "add":
                body[FIELDS[key % len(FIELDS)]] = value
            elif kind == "free":
                body["metadata"] = free
        return body
    change = st.tuples(st.sampled_from(["drop", "replace", "replace", "add", "free"]),
                       st.integers(0, 1000), values, free_form)
    return st.one_of(st.just(valid), st.lists(change, min_size=1, max_size=1).map(apply),
                     st.lists(change, min_size=2, max_size=3).map(apply))


def api_routes() -> list[tuple[str, str]]:
    """(method, path template) of every view under /api/v1/ (`{name}` for path arguments)."""
    found = []

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
                view = getattr(pattern.callback, "cls", None) or getattr(
                    pattern.callback, "view_class", None)
                for method in METHODS:
                    if view is not None and hasattr(view, method):
                        found.append((method, "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}",
                                                           route)))

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


ROUTES = api_routes()


def test_the_routes_were_found():
    assert ("post", "/api/v1/pay/check") in ROUTES and ("get", "/api/v1/ledger/accounts") in ROUTES
    assert len(ROUTES) >= 50


@pytest.fixture
def shop(api, other_merchant):
    main_catalog(api)
    customer(api)
    customer(api, "user_2")
    subscribe_paid(api, "pro")
    coupon = data_of(api.post("/api/v1/pay/coupons", {"code": "SAVE20", "type": "percentage",
                                                      "value": 20, "duration": "once"}), 201)
    return api, coupon["id"]


def check_answer(response, method, path, sent):
    assert response.status_code < 500, (method, path, sent, response.content[:300])
    if response.status_code == 204:
        return
    body = response.json()
    if response.status_code >= 400:
        assert body["success"] is False and set(body["error"]) == {"code", "message",
                                                                  "details"}, body
    else:
        assert body["success"] is True, body


@pytest.mark.parametrize("method,template", ROUTES)
def test_no_body_or_query_gets_a_500(shop, method, template):
    api: Api = shop[0]
    clock_move = template.endswith("/test/clock/advance")

    valid = VALID.get(template)
    body_strategy = st.one_of(mutated(valid), mutated(valid), mutated(valid),
                              bodies) if valid else bodies

    @settings(max_examples=8 if clock_move else 20, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(body=body_strategy, query=queries, raw=raw_bodies, argument=st.one_of(
        st.sampled_from(KNOWN), st.just(shop[1]), st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789",
                                        min_size=1, max_size=30)),
        use_raw=st.integers(0, 9))
    def run(body, query, raw, argument, use_raw):
        if clock_move and isinstance(body, dict):  # keep moves short: years of renewals are slow
            body = {k: (v if k not in ("seconds", "to") or not isinstance(v, int)
                        else min(v, 40 * 24 * 3600)) for k, v in body.items()}
        path = re.sub(r"\{\w+\}", argument, template)
        if query:
            path += "?" + "&".join(f"{k}={v}" for k, v in query.items()).replace("#", "%23")
        if use_raw == 0 and method != "get":  # malformed JSON or not JSON at all
            response = api.call(method, path, raw=raw)
            sent = raw
        elif method == "get":
            response = api.get(path)
            sent = None
        else:
            sent = encoded(body)
            response = api.call(method, path, raw=sent)
            sent = sent[:300]
        check_answer(response, method, path, sent)

    run()


"""POST /track/batch: each event answered and written exactly as /track would, in order.

Random sequences go to two customers on the same plan: `single` through /track one call at a
time, `batch` through batches of random sizes (flushed at every clock move or cap change).
Every answer, and in the end the balances, usage events and webhook events, must be the same.
"""

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.models import Balance, OutgoingEvent, UsageEvent
from cynco import clock
from tests.billing.entitlements import (
    SPEND_CAPS, TRACK, customer_on, metered, plan, switch, test_scope,
)
from tests.factories import Api, data_of, error_of, make_merchant
from tests.threads import race

pytestmark = pytest.mark.django_db

BATCH = "/api/v1/pay/track/batch"
AMOUNTS = [1, 3, 0.5, 6, -2, -0.75, 0.000001, 25]


def single_result(index: int, response) -> dict:
    """What the batch answers for an event that /track answered with `response`."""
    if response.status_code != 200:
        return {"index": index, "status": "error", "error": error_of(response)}
    data = data_of(response)
    status = ("accepted" if data["recorded"] else "duplicate" if data["duplicate"]
              else "denied")
    assert status != "denied" or data["spendCapExceeded"]
    return {"index": index, "status": status, "balance": data["balance"]}


tracks = st.builds(
    lambda amount, key, entity, metadata: ("track", {
        "amount": amount, **({"idempotencyKey": key} if key else {}),
        **({"entityId": entity} if entity else {}),
        **({"metadata": metadata} if metadata else {})}),
    st.sampled_from(AMOUNTS), st.sampled_from([None, "a", "b", "c"]),
    st.sampled_from([None, "e1"]), st.sampled_from([None, {"n": 1.5, "s": "x"}]),
)
oddities = st.sampled_from([
    ("track", {"feature": "sso"}), ("track", {"feature": "nope"}), ("track", {"amount": 0}),
    ("track", {"amount": "1"}), ("track", {"customer": "ghost"}), ("track", {"entityId": ""}),
    ("track", {"amount": 1e30}), ("track", {"other": "credits", "amount": 2}),
    ("flush", {}), ("advance-month", {}), ("cap", {"capCents": 30}), ("cap", {"capCents": None}),
    ("cap", {"capCents": 0}),
])


class Shop:
    """A merchant whose `meter` plan grants 20 credits (overage at 10 per unit), 10 `other`
    credits and `sso`; customers `single` and `batch` on it."""

    def __init__(self):
        self.merchant = make_merchant()
        self.api = Api(self.merchant.secret_test)
        plan(self.api, "meter", metered("credits", 20, overageAllowed=True, overagePrice=10),
             metered("other", 10), switch("sso"))
        for customer in ("single", "batch"):
            customer_on(self.api, self.merchant, "meter", customer)
        self.buffer: list[dict] = []
        self.expected: list[dict] = []

    def apply(self, kind: str, body: dict) -> None:
        if kind == "track":
            if "other" in body:
                body = {"feature": "other", "amount": body["amount"]}
            sent = {"feature": "credits", **body}
            single = {"customer": "single", **sent}
            self.expected.append(single_result(len(self.buffer),
                                               self.api.post(TRACK, single)))
            self.buffer.append({"customer": "batch", **sent})
            return
        self.flush()
        if kind == "advance-month":
            clock.advance(scope=test_scope(self.merchant), seconds=31 * 86400)
        elif kind == "cap":
            for customer in ("single", "batch"):
                data_of(self.api.post(SPEND_CAPS, {"customer": customer, "feature": "credits",
                                                   **body}))

    def flush(self) -> None:
        if not self.buffer:
            return
        results = data_of(self.api.post(BATCH, {"events": self.buffer}))["results"]
        assert results == self.expected, (self.buffer, results, self.expected)
        self.buffer, self.expected = [], []

    def assert_alike(self) -> None:
        self.flush()

        def rows(customer):
            scope = {"customer__external_id": customer, "merchant_id": self.merchant.merchant.id}
            balances = sorted(Balance.objects.filter(**scope).values_list(
                "feature__slug", "entity_key", "granted", "used", "reserved", "threshold_sent"))
            events = list(UsageEvent.objects.filter(**scope).order_by("created_at", "id")
                          .values_list("feature__slug", "amount", "source", "entity_key",
                                       "idempotency_key", "metadata"))
            return balances, events

        assert rows("single") == rows("batch")
        webhooks = {"single": [], "batch": []}
        for event in OutgoingEvent.objects.filter(
                merchant_id=self.merchant.merchant.id).order_by("created_at", "id"):
            data = json.loads(event.payload)["data"]
            if data.get("externalId") in webhooks:
                webhooks[data["externalId"]].append(
                    (event.type, data["feature"], data["threshold"], data["usage"],
                     data["balance"]))
        assert webhooks["single"] == webhooks["batch"]


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(st.one_of(tracks, tracks, oddities), min_size=1, max_size=40))
def test_batches_answer_and_write_as_tracks_one_by_one(steps):
    shop = Shop()
    for kind, body in steps:
        shop.apply(kind, body)
    shop.assert_alike()


def test_a_batch_through_thresholds_corrections_and_a_new_period():
    shop = Shop()
    steps = ([("track", {"amount": 3})] * 5 + [("track", {"amount": 1, "idempotencyKey": "a"})] * 3
             + [("track", {"amount": 6}), ("track", {"amount": -20}), ("track", {"amount": 19}),
                ("track", {"other": "x", "amount": 9}), ("track", {"amount": 2})]
             + [("advance-month", {}), ("track", {}), ("track", {"idempotencyKey": "a"}),
                ("track", {"amount": 30})])
    for kind, body in steps:
        shop.apply(kind, body)
    shop.assert_alike()
    # 80% and 100% crossed twice on credits (the correction re-arms them), once on other.
    assert OutgoingEvent.objects.filter(type="entitlement.exhausted").count() == 2 * 3


@pytest.fixture
def shop_api(api, merchant):
    plan(api, "pro", metered("messages", 100), switch("sso"))
    for index in range(3):
        customer_on(api, merchant, "pro", f"user_{index}")
    return api


def test_a_bad_event_answers_error_and_the_others_are_recorded(shop_api):
    events = [
        {"customer": "user_0", "feature": "messages", "amount": 2},
        {"customer": "ghost", "feature": "messages"},
        {"customer": "user_0", "feature": "nope"},
        {"customer": "user_0", "feature": "messages", "amount": "two"},
        {"customer": "user_0", "feature": "sso"},
        "not an event",
        {"customer": "user_1", "feature": "messages", "amount": 0},
        {"customer": "user_1", "feature": "messages", "timestamp": "2026-12-01T10:00:00Z"},
        {"customer": "user_1", "feature": "messages", "timestamp": "yesterday"},
        {"customer": "user_1", "feature": "messages", "metadata": {"note": "a\u0000b"}},
    ]
    results = data_of(shop_api.post(BATCH, {"events": events}))["results"]
    assert [result["index"] for result in results] == list(range(len(events)))
    assert [result["status"] for result in results] == [
        "accepted", "error", "error", "error", "error", "error", "error", "accepted", "error",
        "error"]
    codes = [result.get("error", {}).get("code") for result in results]
    assert codes == [None, "CUSTOMER_NOT_FOUND", "FEATURE_NOT_FOUND", "VALIDATION_ERROR",
                     "VALIDATION_ERROR", "VALIDATION_ERROR", "VALIDATION_ERROR", None,
                     "VALIDATION_ERROR", "VALIDATION_ERROR"]
    assert results[3]["error"]["details"][0]["field"] == "amount"
    assert results[8]["error"]["details"][0]["field"] == "timestamp"
    assert results[9]["error"]["details"][0]["field"] == "metadata"
    assert results[0]["balance"] == 98 and results[7]["balance"] == 99
    assert sorted(Balance.objects.filter(feature__slug="messages").values_list(
        "customer__external_id", "used")) == [("user_0", 2), ("user_1", 1), ("user_2", 0)]
    assert UsageEvent.objects.count() == 2


@pytest.mark.parametrize("body, field", [
    ({}, "events"),
    ({"events": None}, "events"),
    ({"events": "x"}, "events"),
    ({"events": {"customer": "user_0"}}, "events"),
    ({"events": []}, "events"),
    ({"events": [{"customer": "user_0", "feature": "messages"}] * 1001}, "events"),
])
def test_a_bad_envelope_is_a_422_with_the_field_and_writes_nothing(shop_api, body, field):
    response = shop_api.post(BATCH, body)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "VALIDATION_ERROR" and error["details"][0]["field"] == field
    assert UsageEvent.objects.count() == 0


def test_a_body_that_is_not_an_object_or_not_json_is_a_422(shop_api):
    for raw in ("[1, 2]", "{", '"events"'):
        response = shop_api.post(BATCH, raw=raw)
        assert response.status_code == 422, raw
        assert error_of(response)["code"] == "VALIDATION_ERROR"


def test_keys_as_for_track(shop_api, merchant):
    body = {"events": [{"customer": "user_0", "feature": "messages"}]}
    assert Api(None).post(BATCH, body).status_code == 401
    public = Api(merchant.publishable_test)
    refused = public.post(BATCH, body)
    assert refused.status_code == 403 and error_of(refused)["code"] == "FORBIDDEN"
    scoped = Api(data_of(shop_api.post("/api/v1/pay/api-keys", {
        "name": "browser", "type": "publishable", "scopes": ["track"]}), 201)["rawKey"])
    assert data_of(scoped.post(BATCH, body))["results"][0]["status"] == "accepted"
    other = make_merchant()
    foreign = data_of(Api(other.secret_test).post(BATCH, body))["results"][0]
    assert foreign["error"]["code"] == "CUSTOMER_NOT_FOUND"
    assert Balance.objects.get(customer__external_id="user_0", feature__slug="messages").used == 1


def test_idempotency_keys_count_once_across_batches_and_single_tracks(shop_api):
    keyed = {"customer": "user_0", "feature": "messages", "idempotencyKey": "job-1"}
    assert data_of(shop_api.post(TRACK, keyed))["recorded"] is True
    results = data_of(shop_api.post(BATCH, {"events": [
        keyed, {**keyed, "idempotencyKey": "job-2"}, {**keyed, "idempotencyKey": "job-2"},
        {**keyed, "customer": "user_1"}]}))["results"]
    assert [result["status"] for result in results] == [
        "duplicate", "accepted", "duplicate", "accepted"]
    assert data_of(shop_api.post(TRACK, {**keyed, "idempotencyKey": "job-2"}))["duplicate"]
    assert UsageEvent.objects.count() == 3


def test_an_idempotency_key_header_replays_the_whole_answer(shop_api):
    body = {"events": [{"customer": "user_0", "feature": "messages", "amount": 5}]}
    first = shop_api.post(BATCH, body, headers={"Idempotency-Key": "batch-1"})
    again = shop_api.post(BATCH, body, headers={"Idempotency-Key": "batch-1"})
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert Balance.objects.get(customer__external_id="user_0",
                               feature__slug="messages").used == 5


def test_a_batch_costs_the_same_few_statements_whatever_its_size(shop_api):
    def statements(count: int) -> int:
        events = [{"customer": f"user_{index % 3}", "feature": "messages",
                   "amount": Decimal("0.01")} for index in range(count)]
        with CaptureQueriesContext(connection) as captured:
            results = data_of(shop_api.post(BATCH, {"events": [
                {**event, "amount": float(event["amount"])} for event in events]}))["results"]
        assert {result["status"] for result in results} == {"accepted"}
        return len(captured.captured_queries)

    statements(3)  # the first call of a minute also stamps the key's lastUsedAt
    small, large = statements(3), statements(600)
    assert small == large <= 6  # the key, savepoints, and the one function call
    assert Balance.objects.get(customer__external_id="user_0",
                               feature__slug="messages").used == Decimal("2.02")


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_and_single_tracks_on_hot_customers_are_exact(api, merchant):
    """4 threads send batches over three hot customers, each in its own order (without one
    lock order, two of them would deadlock), 4 threads track one by one; everyone also sends
    the same 10 idempotency keys. Crossing 80% midway sends some events the full path."""
    plan(api, "pro", metered("messages", 500))
    customers = [f"hot_{index}" for index in range(3)]
    for customer in customers:
        customer_on(api, merchant, "pro", customer)

    def batches(seed: int):
        def run():
            client = Api(merchant.secret_test)
            order = customers[seed % 3:] + customers[:seed % 3]
            statuses = []
            for round_ in range(3):
                events = [{"customer": order[index % 3], "feature": "messages"}
                          for index in range(90)]
                events += [{"customer": "hot_0", "feature": "messages",
                            "idempotencyKey": f"k{round_}-{index}"} for index in range(4)]
                response = client.post(BATCH, {"events": events[::-1] if seed % 2 else events})
                statuses += [result["status"] for result in data_of(response)["results"]]
            return statuses
        return run

    def singles():
        client = Api(merchant.secret_test)
        statuses = []
        for index in range(30):
            data = data_of(client.post(TRACK, {"customer": customers[index % 3],
                                               "feature": "messages"}))
            statuses.append("accepted" if data["recorded"] else "other")
        for index in range(4):
            data = data_of(client.post(TRACK, {"customer": "hot_0", "feature": "messages",
                                               "idempotencyKey": f"k0-{index}"}))
            statuses.append("accepted" if data["recorded"] else "duplicate")
        return statuses

    outcomes = race([batches(seed) for seed in range(4)] + [singles for _ in range(4)])
    for outcome in outcomes:
        assert isinstance(outcome, list), outcome
    statuses = [status for outcome in outcomes for status in outcome]
    assert statuses.count("accepted") == 4 * 3 * 90 + 4 * 30 + 12
    used = dict(Balance.objects.filter(feature__slug="messages").values_list(
        "customer__external_id", "used"))
    assert used == {"hot_0": 360 + 40 + 12, "hot_1": 360 + 40, "hot_2": 360 + 40}
    assert UsageEvent.objects.count() == 4 * 3 * 90 + 4 * 30 + 12
    assert OutgoingEvent.objects.filter(type="entitlement.threshold_reached").count() == 3

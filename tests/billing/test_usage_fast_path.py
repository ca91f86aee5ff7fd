"""The one-statement path of check and track (billing.services.usage_fast_path) answers and
writes exactly what the full path does.

Random sequences of calls go to two customers on the same plan, `fast` through the one-statement
path and `full` with it switched off (USAGE_FAST_PATH): every answer (status, bytes, headers),
and in the end the balances, usage events, closed periods and webhook events, must be the same.
"""

import json
import select
import threading

import psycopg
import pytest
from django.db import connection, connections, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.models import Balance, OutgoingEvent, PeriodUsage, UsageEvent
from cynco import clock
from cynco.keys import hash_key
from cynco.locks import customer_lock_key, lock_customer
from cynco.models import ApiKey
from tests.billing.entitlements import (
    CHECK, SPEND_CAPS, TRACK, customer_on, customer_row, metered, plan, switch, test_scope,
)
from tests.factories import Api, data_of, error_of, make_merchant

pytestmark = pytest.mark.django_db

CUSTOMERS = ("fast", "full")
AMOUNTS = [1, 3, 0.5, 6, -2, -0.75, 0.000001, 25]
REQUIRED = [None, 1, 2.5, 7, 30]


def post(api, path: str, customer: str, body: dict, headers: dict | None = None):
    with override_settings(USAGE_FAST_PATH=customer == "fast"):
        return api.post(path, {"customer": customer, **body}, headers=headers)


def one_statement(captured) -> bool:
    """Whether a call was answered by the one-statement path alone."""
    sql = [q["sql"] for q in captured.captured_queries]
    if connection.in_atomic_block:  # a test's transaction: with a savepoint around it
        return len(sql) == 3 and "billing_usage_record" in sql[1]
    return len(sql) == 1 and "billing_usage_record" in sql[0]


tracks = st.builds(
    lambda amount, key, entity, metadata: ("track", {
        "amount": amount, **({"idempotencyKey": key} if key else {}),
        **({"entityId": entity} if entity else {}),
        **({"metadata": metadata} if metadata else {})}),
    st.sampled_from(AMOUNTS), st.sampled_from([None, "a", "b"]), st.sampled_from([None, "e1"]),
    st.sampled_from([None, {"n": 1.5, "s": "x", "list": [1, {"k": None}]}]),
)
checks = st.builds(
    lambda required, send: ("check", {
        **({"requiredBalance": required} if required is not None else {}),
        **({"sendEvent": send} if send is not None else {})}),
    st.sampled_from(REQUIRED), st.sampled_from([None, False, True]),
)
oddities = st.sampled_from([
    ("track", {"feature": "sso"}), ("check", {"feature": "sso"}),
    ("check", {"feature": "sso", "sendEvent": True}), ("track", {"feature": "nope"}),
    ("check", {"feature": "nope"}), ("track", {"amount": 0}), ("track", {"amount": "1"}),
    ("check", {"requiredBalance": -1}), ("track", {"customer": "ghost"}),
    ("track", {"entityId": ""}), ("track", {"idempotencyKey": " padded "}),
    ("public-track", {}), ("public-check", {}), ("public-check", {"sendEvent": True}),
    ("lock", {}), ("advance-seconds", {}), ("advance-month", {}), ("cap", {"capCents": 30}),
    ("cap", {"capCents": None}), ("cap", {"capCents": 0}),
])


class Shop:
    """A merchant whose `meter` plan grants 20 credits (overage at 10 per unit) and `sso`."""

    def __init__(self):
        self.merchant = make_merchant()
        self.api = Api(self.merchant.secret_test)
        self.public = Api(self.merchant.publishable_test)
        plan(self.api, "meter", metered("credits", 20, overageAllowed=True, overagePrice=10),
             switch("sso"))
        for customer in CUSTOMERS:
            customer_on(self.api, self.merchant, "meter", customer)
        self.locks = 0
        self.fast_answers = 0

    def apply(self, kind: str, body: dict) -> None:
        if kind.startswith("advance"):
            seconds = 3 if kind == "advance-seconds" else 31 * 86400
            clock.advance(scope=test_scope(self.merchant), seconds=seconds)
            return
        if kind == "lock":
            self.locks += 1
            body = {"requiredBalance": 2, "lock": {
                "enabled": True, "lockId": f"job_{self.locks}",
                "expiresAt": int(clock.wall_now().timestamp() * 1000) + 2000}}
        answers = []
        for customer in CUSTOMERS:
            api, path = self.api, TRACK if "track" in kind else CHECK
            if kind.startswith("public"):
                api = self.public
            if kind == "cap":
                path = SPEND_CAPS
            sent = {"feature": "credits", **body}
            with CaptureQueriesContext(connection) as captured:
                response = post(api, path, customer, sent)
            if customer == "fast" and one_statement(captured):
                self.fast_answers += 1
            if kind == "cap":  # the answer names the customer
                answers.append(response.status_code)
            else:
                headers = {name: value for name, value in response.items()
                           if name != "X-Request-Id"}  # each answer has its own
                answers.append((response.status_code, response.content, headers))
        assert answers[0] == answers[1], (kind, body, answers)

    def assert_alike(self) -> None:
        def rows(customer):
            scope = {"customer__external_id": customer, "merchant_id": self.merchant.merchant.id}
            balances = sorted(Balance.objects.filter(**scope).values_list(
                "feature__slug", "entity_key", "granted", "used", "reserved", "threshold_sent"))
            events = list(UsageEvent.objects.filter(**scope).order_by("created_at", "id")
                          .values_list("amount", "source", "entity_key", "idempotency_key",
                                       "metadata"))
            periods = sorted(PeriodUsage.objects.filter(**scope).values_list(
                "granted", "used", "overage_units", "overage_amount"))
            return balances, events, periods

        assert rows("fast") == rows("full")
        webhooks = {customer: [] for customer in CUSTOMERS}
        for event in OutgoingEvent.objects.filter(
                merchant_id=self.merchant.merchant.id).order_by("created_at", "id"):
            data = json.loads(event.payload)["data"]
            if data.get("externalId") in webhooks:
                webhooks[data["externalId"]].append(
                    (event.type, data["threshold"], data["usage"], data["balance"]))
        assert webhooks["fast"] == webhooks["full"]


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(st.one_of(tracks, checks, oddities), min_size=1, max_size=30))
def test_both_paths_answer_and_write_alike(steps):
    shop = Shop()
    for kind, body in steps:
        shop.apply(kind, body)
    shop.assert_alike()


def run_threshold_sequence() -> Shop:
    shop = Shop()
    steps = [("track", {"amount": 3})] * 4 + [("track", {"amount": 5})] + [
        ("check", {"sendEvent": True})] * 3 + [("track", {"amount": 6})] + [
        ("track", {"amount": 1, "idempotencyKey": "a"})] * 2 + [
        ("check", {}), ("track", {"amount": -20}), ("track", {"amount": 17}),
        ("lock", {}), ("advance-seconds", {}), ("check", {}), ("check", {}),
        ("advance-month", {}), ("track", {}), ("track", {})]
    for kind, body in steps:
        shop.apply(kind, body)
    shop.assert_alike()
    # Crossing 80% and 100% (twice: the correction re-arms them), an expired lock and a new
    # period went the full path; the rest, one statement each.
    assert shop.fast_answers == 13
    assert OutgoingEvent.objects.filter(type="entitlement.exhausted").count() == 4
    return shop


def test_a_sequence_through_thresholds_takes_the_fast_path_where_it_can():
    run_threshold_sequence()


@pytest.mark.django_db(transaction=True)
def test_the_same_sequence_with_each_statement_its_own_transaction():
    # Outside a test transaction: the statement is its own transaction (no savepoint).
    shop = run_threshold_sequence()
    assert not connection.in_atomic_block
    assert UsageEvent.objects.filter(customer__external_id="fast").count() == (
        UsageEvent.objects.filter(customer__external_id="full").count())


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_closed_is_replaced_before_the_statement(merchant, api):
    plan(api, "pro", metered("messages", 10))
    customer_on(api, merchant, "pro")
    body = {"customer": "user_1", "feature": "messages"}
    data_of(api.post(TRACK, body))
    pid = connection.connection.info.backend_pid
    with psycopg.connect(connection.connection.info.dsn, password=connection.settings_dict[
            "PASSWORD"] or None, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    poller = select.poll()
    poller.register(connection.connection.fileno(), select.POLLIN)
    assert poller.poll(5000), "the server did not close the connection"
    assert data_of(api.post(TRACK, body))["balance"] == 8
    assert connection.connection.info.backend_pid != pid


def test_the_first_call_of_a_minute_stamps_last_used_through_the_full_path(api, merchant):
    plan(api, "pro", metered("messages", 10))
    customer_on(api, merchant, "pro")
    key = ApiKey.objects.get(key_hash=hash_key(merchant.secret_test))
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=None)
    body = {"customer": "user_1", "feature": "messages"}
    with CaptureQueriesContext(connection) as first:
        data_of(api.post(TRACK, body))
    assert not one_statement(first)
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None
    with CaptureQueriesContext(connection) as second:
        data_of(api.post(TRACK, body))
    assert one_statement(second)


def test_a_revoked_key_is_refused_on_the_very_next_call(api, merchant):
    plan(api, "pro", metered("messages", 10))
    customer_on(api, merchant, "pro")
    extra = data_of(api.post("/api/v1/pay/api-keys", {"name": "temp", "type": "secret"}), 201)
    temp = Api(extra["rawKey"])
    body = {"customer": "user_1", "feature": "messages"}
    for path in (TRACK, CHECK, TRACK):  # the second and third are one statement each
        data_of(temp.post(path, body))
    data_of(api.delete(f"/api/v1/pay/api-keys?id={extra['id']}"))
    for path in (TRACK, CHECK):
        response = temp.post(path, body)
        assert response.status_code == 401 and "revoked" in error_of(response)["message"]
    assert Balance.objects.get().used == 2


def test_a_publishable_key_with_the_track_scope_tracks_in_one_statement(api, merchant):
    plan(api, "pro", metered("messages", 10))
    customer_on(api, merchant, "pro")
    scoped = Api(data_of(api.post("/api/v1/pay/api-keys", {
        "name": "browser", "type": "publishable", "scopes": ["track"]}), 201)["rawKey"])
    body = {"customer": "user_1", "feature": "messages"}
    data_of(scoped.post(CHECK, body))  # stamps lastUsedAt
    with CaptureQueriesContext(connection) as captured:
        assert data_of(scoped.post(TRACK, body))["balance"] == 9
    assert one_statement(captured)
    refused = scoped.post(CHECK, {**body, "sendEvent": True})
    assert refused.status_code == 403 and error_of(refused)["code"] == "FORBIDDEN"
    assert Balance.objects.get().used == 1


def test_an_idempotency_key_header_goes_the_full_path_and_replays(api, merchant):
    plan(api, "pro", metered("messages", 10))
    customer_on(api, merchant, "pro")
    body = {"customer": "user_1", "feature": "messages"}
    first = api.post(TRACK, body, headers={"Idempotency-Key": "req-1"})
    again = api.post(TRACK, body, headers={"Idempotency-Key": "req-1"})
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert Balance.objects.get().used == 1


def test_metadata_with_fractional_numbers_is_kept(api, merchant, settings):
    plan(api, "pro", metered("messages", 10))
    customer_on(api, merchant, "pro")
    raw = ('{"customer": "user_1", "feature": "messages",'
           ' "metadata": {"ms": 12.5, "n": 2, "e": 1e2}}')
    for fast in (True, False):
        settings.USAGE_FAST_PATH = fast
        data_of(api.post(TRACK, raw=raw))
    assert [event.metadata for event in UsageEvent.objects.all()] == [
        {"ms": 12.5, "n": 2, "e": 100}] * 2
    # A number beyond a double is refused alike on both paths.
    for fast in (True, False):
        settings.USAGE_FAST_PATH = fast
        response = api.post(TRACK, raw=raw.replace("1e2", "1e400"))
        assert error_of(response)["details"][0]["field"].startswith("metadata")


def test_an_amount_with_too_many_digits_is_a_422(api, merchant):
    plan(api, "pro", metered("messages", 10))
    customer_on(api, merchant, "pro")
    response = api.post(TRACK, {"customer": "user_1", "feature": "messages", "amount": 1e30})
    assert response.status_code == 422
    assert error_of(response)["details"][0]["field"] == "amount"


def test_sql_and_python_compute_the_same_customer_lock_key():
    ids = ["pcm_01abc", "cus_a", "pcm_" + "z" * 26, "ü-unicode"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT unnest(%s::text[]), cynco_customer_lock_key(unnest(%s::text[]))",
                       [ids, ids])
        assert dict(cursor.fetchall()) == {id: customer_lock_key(id) for id in ids}


@pytest.mark.django_db(transaction=True)
def test_a_track_waits_for_the_lock_the_full_path_holds_and_answers_429(merchant, api,
                                                                        settings):
    settings.CUSTOMER_LOCK_WAIT_SECONDS = 0.2
    plan(api, "pro", metered("messages", 10))
    customer_on(api, merchant, "pro")
    customer = customer_row(merchant)
    held, release = threading.Event(), threading.Event()

    def holder():
        try:
            with transaction.atomic():
                lock_customer(customer.id)
                held.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(10)
    try:
        with CaptureQueriesContext(connection) as captured:
            response = api.post(TRACK, {"customer": "user_1", "feature": "messages"})
        assert one_statement(captured)
        assert response.status_code == 429
        assert error_of(response)["code"] == "CONCURRENT_REQUEST"
    finally:
        release.set()
        thread.join()
    assert Balance.objects.get().used == 0 and UsageEvent.objects.count() == 0
    assert data_of(api.post(TRACK, {"customer": "user_1", "feature": "messages"}))[
        "balance"] == 9

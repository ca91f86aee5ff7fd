"""`/metrics`: who may read it, and that what happens is counted where operators look.

Counters are process-wide and other tests move them too, so each test reads a scrape before and
after what it does and compares the two. The multi-process case (gunicorn workers adding up)
is in tests/clients/test_server_metrics.py, against a real gunicorn.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client

from billing.models import Subscription
from billing.services.audit import Actor
from billing.services.webhooks import emit_event, webhook_endpoint_create
from cynco import tasks as cynco_tasks
from cynco.clock import wall_now
from cynco.errors import ConcurrentRequest
from cynco.locks import lock_customer
from cynco.models import EnvironmentClock
from cynco.tenancy import Scope
from ledger.services.reconciliation import reconciliation_run
from tests.billing.entitlements import CHECK, TRACK, customer_on, metered, plan
from tests.billing.subscribing import (
    LATER_DECLINED_CARD,
    customer,
    main_catalog,
    subscribe,
    subscribe_paid,
)
from tests.cynco.metrics_reading import scrape, value
from tests.factories import data_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client()


def test_metrics_are_served_to_loopback_in_the_prometheus_text_format(client):
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert b"# TYPE cynco_http_request_duration_seconds histogram" in response.content


def test_metrics_refuse_an_address_outside_the_allowed_networks(client, settings):
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    settings.METRICS_ALLOWED_NETWORKS = ["203.0.113.0/24"]
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


def test_with_a_token_set_metrics_need_it_as_a_bearer_token(client, settings):
    settings.METRICS_TOKEN = "scrape-token-1"
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    wrong = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 403
    right = client.get("/metrics", REMOTE_ADDR="127.0.0.1",
                       HTTP_AUTHORIZATION="Bearer scrape-token-1")
    assert right.status_code == 200


def test_a_request_is_observed_under_its_route_pattern_and_status_and_errors_by_code(api,
                                                                                    client):
    before = scrape(client)
    api.get("/api/v1/pay/coupons/pcpn_missing")
    api.get("/api/v1/pay/coupons/pcpn_also_missing")
    after = scrape(client)
    labels = {"route": "api/v1/pay/coupons/<str:coupon_id>", "method": "GET", "status": "404"}
    counted = "cynco_http_request_duration_seconds_count"
    assert value(after, counted, **labels) - value(before, counted, **labels) == 2
    errors = {"route": labels["route"], "code": "NOT_FOUND"}
    assert (value(after, "cynco_api_errors_total", **errors)
            - value(before, "cynco_api_errors_total", **errors)) == 2


def test_check_and_track_are_counted_by_path_and_outcome(api, merchant, client):
    plan(api, "pro", metered("messages", 10))
    customer_on(api, merchant, "pro")
    body = {"customer": "user_1", "feature": "messages"}
    data_of(api.post(CHECK, body))  # the key's first call of the minute: the full path
    before = scrape(client)
    data_of(api.post(CHECK, body))  # fast: allowed
    data_of(api.post(TRACK, body))  # fast: recorded
    data_of(api.post(CHECK, {**body, "requiredBalance": 50}))  # fast: denied
    lock = {"enabled": True, "expiresAt": int(wall_now().timestamp() * 1000) + 60_000}
    data_of(api.post(CHECK, {**body, "requiredBalance": 50, "lock": lock}))  # full: denied
    after = scrape(client)

    def moved(**labels):
        name = "cynco_usage_calls_total"
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved(call="check", path="fast", outcome="allowed") == 1
    assert moved(call="track", path="fast", outcome="recorded") == 1
    assert moved(call="check", path="fast", outcome="denied") == 1
    assert moved(call="check", path="full", outcome="denied") == 1


@pytest.mark.django_db(transaction=True)
def test_a_lock_wait_that_runs_out_is_counted_as_a_timeout(settings, client):
    settings.CUSTOMER_LOCK_WAIT_SECONDS = 0.2
    holding, release = threading.Event(), threading.Event()

    def hold():
        with transaction.atomic():
            lock_customer("pcm_metrics_lock")
            holding.set()
            release.wait(10)

    before = scrape(client)
    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10)
        with pytest.raises(ConcurrentRequest), transaction.atomic():
            lock_customer("pcm_metrics_lock")
    finally:
        release.set()
        holder.join()
    with transaction.atomic():
        lock_customer("pcm_metrics_lock")
    after = scrape(client)
    name = "cynco_customer_lock_wait_seconds_count"
    assert value(after, name, outcome="timeout") - value(before, name, outcome="timeout") == 1
    assert value(after, name, outcome="acquired") - value(before, name, outcome="acquired") >= 1
    waited = "cynco_customer_lock_wait_seconds_sum"
    assert value(after, waited, outcome="timeout") - value(before, waited, outcome="timeout") >= 0.2


@pytest.mark.django_db(transaction=True)
def test_a_settled_payment_is_counted_by_gateway_and_outcome(api, client):
    main_catalog(api)
    customer(api, "user_1")
    before = scrape(client)
    subscribe_paid(api, "pro", card=LATER_DECLINED_CARD)  # paid on the checkout page
    upgrade = subscribe(api, "enterprise")  # charged to the saved card: declined
    assert upgrade["requiredAction"]["code"] == "payment_failed", upgrade
    after = scrape(client)
    name = "cynco_payment_attempts_total"
    for outcome in ("succeeded", "failed"):
        labels = {"gateway": "sandbox", "kind": "charge", "outcome": outcome}
        assert value(after, name, **labels) - value(before, name, **labels) == 1, outcome


def test_background_jobs_are_counted_with_their_last_success_time(client):
    before = scrape(client)
    cynco_tasks.purge_idempotency_records.delay()
    after = scrape(client)
    job = {"job": "cynco.tasks.purge_idempotency_records"}
    runs = "cynco_job_runs_total"
    assert (value(after, runs, outcome="success", **job)
            - value(before, runs, outcome="success", **job)) == 1
    last = value(after, "cynco_job_last_success_timestamp_seconds", **job)
    assert abs(last - wall_now().timestamp()) < 60


def test_renewals_due_by_each_environments_own_clock_are_reported_with_their_delay(
        api, merchant, client):
    plan(api, "pro", metered("messages", 10))
    customer_on(api, merchant, "pro", "user_1", days=1)
    customer_on(api, merchant, "pro", "user_2", days=3)
    assert value(scrape(client), "cynco_renewals_due", environment="test") == 0
    # The test clock moves two days ahead without running the jobs (as if beat were down):
    # user_1's period has ended a day ago by that clock, user_2's has not.
    EnvironmentClock.objects.update_or_create(
        merchant_id=merchant.merchant.id, environment="test",
        defaults={"offset_seconds": 2 * 24 * 3600},
    )
    samples = scrape(client)
    assert value(samples, "cynco_renewals_due", environment="test") == 1
    late = value(samples, "cynco_renewals_due_oldest_seconds", environment="test")
    assert timedelta(hours=23) < timedelta(seconds=late) < timedelta(hours=25)
    assert value(samples, "cynco_renewals_due", environment="live") == 0
    assert Subscription.objects.count() == 2  # nothing ran: the figure only reads


def test_an_undelivered_webhook_is_reported_with_its_age(merchant, client):
    scope = Scope(merchant.merchant.id, "test")
    webhook_endpoint_create(scope=scope, url="https://hooks.example.com/cynco", events=None,
                            actor=Actor.api("pak_test"))
    emit_event(scope=scope, type="payment.succeeded", data={"amount": 2000})
    samples = scrape(client)
    assert value(samples, "cynco_webhook_deliveries_pending", environment="test") == 1
    assert value(samples, "cynco_webhook_oldest_undelivered_seconds", environment="test") >= 0
    assert value(samples, "cynco_metrics_source_up",
                 source="billing.selectors.backlog.backlog_figures") == 1


def test_the_last_reconciliation_is_reported(merchant, client):
    run, findings = reconciliation_run()
    samples = scrape(client)
    assert value(samples, "cynco_reconciliation_differences") == len(findings.differences) == 0
    assert value(samples, "cynco_reconciliation_last_run_timestamp_seconds") == pytest.approx(
        run.finished_at.timestamp())


def test_a_failing_figure_source_is_reported_down_and_the_rest_still_served(client, settings):
    settings.METRICS_FIGURE_SOURCES = [*settings.METRICS_FIGURE_SOURCES, "cynco.nowhere.figures"]
    samples = scrape(client)
    assert value(samples, "cynco_metrics_source_up", source="cynco.nowhere.figures") == 0
    assert value(samples, "cynco_metrics_source_up",
                 source="gateways.backlog.pending_attempt_figures") == 1


def test_every_metric_the_operations_page_alerts_on_is_one_the_server_serves(settings):
    import re
    from importlib import import_module
    from inspect import getsource
    from pathlib import Path

    from prometheus_client import REGISTRY

    page = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    rules = page.split("```yaml", 1)[1].split("```", 1)[0]
    named = set(re.findall(r"\bcynco_[a-z_]+", rules))
    served = {"cynco_metrics_source_up"}
    for family in REGISTRY.collect():
        if family.name.startswith("cynco_"):
            suffixes = ("_total",) if family.type == "counter" else (
                ("_bucket", "_count", "_sum") if family.type == "histogram" else ("",))
            served |= {family.name + suffix for suffix in suffixes}
    for source in settings.METRICS_FIGURE_SOURCES:
        module = import_module(source.rsplit(".", 1)[0])
        served |= set(re.findall(r'Figure\(\s*"(cynco_[a-z_]+)"', getsource(module)))
    assert named and named - served == set()

"""Metrics and logs of the server as it runs in production: gunicorn with two worker
processes (PROMETHEUS_MULTIPROC_DIR set, as scripts/run.py sets it), scraped over HTTP."""

from __future__ import annotations

import json
import time
import urllib.request

import httpx
import pytest
from cynco_billing import CyncoBillingError

from tests.cynco.metrics_reading import parse, value
from tests.key_material import key_material

ROUTE = {"route": "api/v1/pay/products", "method": "GET", "status": "200"}
COUNT = "cynco_http_request_duration_seconds_count"


def scrape(server) -> dict:
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as answer:
        return parse(answer.read().decode())


def test_requests_served_by_both_workers_add_up_in_one_scrape(billing_server, keys):
    before = scrape(billing_server)
    for _ in range(40):  # a new connection each time, so both workers take some
        answer = httpx.get(billing_server.url + "/api/v1/pay/products",
                           headers={"Authorization": f"Bearer {keys.secret_test}"})
        assert answer.status_code == 200
    after = scrape(billing_server)
    assert value(after, COUNT, **ROUTE) - value(before, COUNT, **ROUTE) == 40
    writers = {path.stem.rsplit("_", 1)[-1]
               for path in billing_server.metrics_dir.glob("histogram_*.db")}
    assert len(writers) >= 2, writers  # two processes wrote, one scrape added them up


def test_the_metrics_page_names_every_family_operators_alert_on(billing_server):
    text = urllib.request.urlopen(billing_server.url + "/metrics", timeout=10).read().decode()
    for family in ("cynco_http_request_duration_seconds", "cynco_renewals_due",
                   "cynco_renewals_due_oldest_seconds", "cynco_webhook_oldest_undelivered_seconds",
                   "cynco_webhook_deliveries_pending", "cynco_metrics_source_up"):
        assert f"# TYPE {family} " in text, family


def test_a_request_id_seen_by_the_client_finds_its_line_in_the_server_log(billing,
                                                                          billing_server, keys):
    with pytest.raises(CyncoBillingError) as missing:
        billing.get_customer("nobody")
    request_id = missing.value.request_id
    deadline, line = time.monotonic() + 10, None
    while line is None and time.monotonic() < deadline:
        for text in billing_server.log_path.read_text().splitlines():
            if request_id in text:
                line = json.loads(text)
        time.sleep(0.1)
    assert line is not None
    assert line["msg"] == "request" and line["status"] == 404
    assert line["error_code"] == "CUSTOMER_NOT_FOUND" and line["route"] == "api/v1/pay/customers"
    assert line["merchant_id"] == keys.merchant.id and line["key_id"].startswith("pak_")
    assert key_material(billing_server.log_path.read_text(),
                        known=(keys.secret_test, keys.publishable_test)) == []

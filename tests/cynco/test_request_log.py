"""One JSON line per request with its id, route, status, duration, merchant and key id; the id
comes back in `X-Request-Id` and is on every log record written while the request ran."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from cynco import request_log
from tests.billing.entitlements import CHECK, customer_on, metered, plan
from tests.cynco.log_capture import captured_logs, json_lines
from tests.factories import Api, data_of

pytestmark = pytest.mark.django_db


def request_lines(text: str) -> list[dict]:
    return [line for line in json_lines(text) if line.get("msg") == "request"]


def test_every_answer_carries_a_request_id_and_a_plain_caller_id_is_kept(api):
    generated = api.get("/api/v1/pay/products")
    assert re.fullmatch(r"req_[0-9a-f]{24}", generated["X-Request-Id"])
    assert api.get("/api/v1/pay/products")["X-Request-Id"] != generated["X-Request-Id"]
    given = api.get("/api/v1/pay/products", headers={"X-Request-Id": "lb-7f3a9c01-42"})
    assert given["X-Request-Id"] == "lb-7f3a9c01-42"
    for odd in ("short", "x" * 65, "bad id with spaces", "quote\"d-1234567"):
        answer = api.get("/api/v1/pay/products", headers={"X-Request-Id": odd})
        assert answer["X-Request-Id"].startswith("req_"), odd


def test_a_request_is_one_json_line_with_merchant_key_route_status_and_duration(api, merchant):
    with captured_logs() as text:
        response = api.get("/api/v1/pay/coupons/pcpn_nothing?customer=user_1")
    [line] = request_lines(text[0])
    assert line["request_id"] == response["X-Request-Id"]
    assert line["level"] == "INFO" and line["logger"] == "cynco.request"
    assert line["method"] == "GET" and line["status"] == 404
    assert line["route"] == "api/v1/pay/coupons/<str:coupon_id>"
    assert line["path"] == "/api/v1/pay/coupons/pcpn_nothing"  # never the query string
    assert line["error_code"] == "NOT_FOUND"
    assert line["merchant_id"] == merchant.merchant.id and line["environment"] == "test"
    assert line["key_id"] in {key["id"] for key in data_of(api.get("/api/v1/pay/api-keys"))}
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["ts"])


def test_an_unknown_key_is_logged_without_a_key_id_and_portal_paths_without_their_token():
    with captured_logs() as text:
        Api("cp_sk_test_" + "Z" * 32).get("/api/v1/pay/products")
        Client().get("/portal/some.signed.token-value")
    unauthorized, portal = request_lines(text[0])
    assert unauthorized["status"] == 401 and unauthorized["error_code"] == "UNAUTHORIZED"
    assert "key_id" not in unauthorized and "key_hash" not in unauthorized
    assert portal["route"] == "portal/<str:token>" and "path" not in portal


def test_a_fast_check_names_its_key_once_the_process_has_seen_the_key(api, merchant):
    plan(api, "pro", metered("messages", 10))
    customer_on(api, merchant, "pro")
    body = {"customer": "user_1", "feature": "messages"}
    data_of(api.post(CHECK, body))  # the first call of the minute goes the full path
    request_log.known_keys._entries.clear()  # as in a worker that has not seen the key yet
    with captured_logs() as text:
        data_of(api.post(CHECK, body))  # one statement: no key row loaded
        data_of(api.get("/api/v1/pay/customers?id=user_1"))  # the full path: the key row
        data_of(api.post(CHECK, body))
    unseen, full, seen = request_lines(text[0])
    assert "key_id" not in unseen and re.fullmatch(r"[0-9a-f]{12}", unseen["key_hash"])
    assert seen["key_id"] == full["key_id"] and seen["merchant_id"] == merchant.merchant.id


def test_an_error_logged_during_a_request_carries_that_requests_id(api, settings):
    settings.ROOT_URLCONF = "tests.cynco.crash_urls"
    client = Client(raise_request_exception=False)
    with captured_logs() as text:
        api_answer = Api(api.key, client).get("/api/v1/pay/test-crash")
        page_answer = client.get("/plain-crash")
    assert api_answer.status_code == page_answer.status_code == 500
    assert api_answer.json()["error"]["code"] == "INTERNAL_ERROR"
    lines = json_lines(text[0])
    for answer in (api_answer, page_answer):
        request_id = answer["X-Request-Id"]
        errors = [line for line in lines
                  if line["level"] == "ERROR" and line.get("request_id") == request_id]
        assert any("Traceback" in line.get("exc_info", "") for line in errors), lines
        [request_line] = [line for line in errors if line["msg"] == "request"]
        assert request_line["status"] == 500
    assert all(line.get("request_id") for line in lines if line["level"] == "ERROR")


def test_outside_a_request_records_carry_no_request_id():
    import logging

    with captured_logs() as text:
        logging.getLogger("cynco.test").warning("between requests")
    [line] = json_lines(text[0])
    assert line["msg"] == "between requests" and "request_id" not in line

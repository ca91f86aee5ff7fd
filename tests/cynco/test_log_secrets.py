"""A representative run of many endpoints that hand out or receive secrets (raw keys, webhook
secrets, card numbers, portal links), then a search of every log line it wrote for them.

The whole suite's logs are searched the same way at the end of every run (tests/log_audit.py);
this test makes sure such a run exists and names what it handed out, so that even secrets no
pattern knows are searched for."""

from __future__ import annotations

import pytest

from tests.billing.entitlements import CHECK, TRACK, metered
from tests.billing.subscribing import (
    DECLINED_CARD,
    OK_CARD,
    THREE_DS_CARD,
    complete_path,
    customer,
    main_catalog,
    subscribe,
)
from tests.cynco.log_capture import captured_logs, json_lines
from tests.factories import Api, data_of
from tests.key_material import key_material


@pytest.mark.django_db(transaction=True)
def test_a_run_of_many_endpoints_logs_no_key_card_or_secret(api, merchant, receiver):
    handed_out = [merchant.secret_test, merchant.publishable_test, merchant.secret_live,
                  merchant.publishable_live]
    with captured_logs(scrubbed=False) as raw, captured_logs() as written:
        main_catalog(api)
        data_of(api.post("/api/v1/pay/products", {
            "name": "Credits", "slug": "credits", "isAddOn": True,
            "prices": [{"type": "one_time", "amount": 500}],
            "features": [metered("messages", 100)]}), 201)
        hook = data_of(api.post("/api/v1/pay/webhooks", {"url": receiver.url}), 201)
        handed_out.append(hook["secret"])
        extra = data_of(api.post("/api/v1/pay/api-keys", {"name": "ci", "type": "secret"}), 201)
        handed_out.append(extra["rawKey"])
        for name in ("user_1", "user_2", "user_3"):
            customer(api, name)
        for name, card in (("user_1", OK_CARD), ("user_2", DECLINED_CARD),
                           ("user_3", THREE_DS_CARD)):
            started = subscribe(api, "pro", name, successUrl="https://example.com/ok")
            api.post(complete_path(started["checkoutId"]), {"card": card})
        portal = data_of(api.get("/api/v1/pay/portal?customer=user_1"))["url"]
        handed_out.append(portal.rsplit("/", 1)[-1])
        for path in (CHECK, TRACK):
            data_of(api.post(path, {"customer": "user_1", "feature": "messages"}))
        Api(extra["rawKey"]).get("/api/v1/pay/customers?id=user_1")
        data_of(api.delete(f"/api/v1/pay/api-keys?id={extra['id']}"))
        assert Api(extra["rawKey"]).get("/api/v1/pay/products").status_code == 401
        assert Api("cp_sk_test_" + "Q" * 32).get("/api/v1/pay/products").status_code == 401
        assert Api(merchant.publishable_test).post("/api/v1/pay/cancel", {
            "customer": "user_1"}).status_code == 403
        api.post("/api/v1/pay/subscribe", raw=b'{"customer": "user_1", "product":')
        data_of(api.post("/api/v1/pay/cancel", {"customer": "user_1", "immediate": True}))
    assert len(receiver.received) >= 1  # webhooks went out, signed, during the run
    requests = [line for line in json_lines(raw[0]) if line.get("msg") == "request"]
    assert len(requests) >= 25, len(requests)
    assert {line["status"] for line in requests} >= {200, 201, 401, 403, 422}
    for text in (raw[0], written[0]):
        assert key_material(text, known=tuple(handed_out)) == []

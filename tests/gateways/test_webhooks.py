"""Incoming gateway webhooks: stored raw, verified, deduplicated, processed once."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.db import connections

from gateways.models import GatewayAccount, WebhookEvent
from gateways.sandbox import signing
from tests.gateways.conftest import saved_card

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/gateways/sandbox/webhook"


def signed(*, secret=None, event_type="checkout.completed", merchant_id="mer_unknown"):
    headers, body = signing.signed_event(
        secret=secret or settings.SANDBOX_WEBHOOK_SECRET, event_type=event_type,
        merchant_id=merchant_id, environment="test", data={"session": "sbx_cs_1"},
    )
    return {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}, body


def post(client, body, headers, url=URL):
    return client.post(url, data=body, content_type="application/json", **headers)


def test_an_event_is_stored_exactly_as_received_and_processed(client, event_log):
    headers, body = signed()

    response = post(client, body, headers)

    assert response.status_code == 200 and response.json() == {"received": True,
                                                                "duplicate": False}
    stored = WebhookEvent.objects.get()
    assert bytes(stored.body) == body and stored.verified and stored.processed_at
    assert stored.headers["sandbox-signature"] and "cookie" not in stored.headers
    assert len(event_log["events"]) == 1


def test_a_replayed_event_is_recognised_and_not_processed_again(client, event_log):
    headers, body = signed()
    post(client, body, headers)

    replay = post(client, body, headers)

    assert replay.status_code == 200 and replay.json()["duplicate"] is True
    assert WebhookEvent.objects.count() == 1
    assert len(event_log["events"]) == 1


def test_the_same_event_arriving_twice_at_once_is_stored_and_processed_once(event_log):
    headers, body = signed()
    answers, barrier = [], threading.Barrier(4)

    def deliver():
        from django.test import Client

        try:
            barrier.wait()
            answers.append(post(Client(), body, headers).json()["duplicate"])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers) == [False, True, True, True]
    assert WebhookEvent.objects.count() == 1
    assert len(event_log["events"]) == 1


def test_a_forged_signature_is_refused_kept_for_inspection_and_never_processed(client, event_log):
    headers, body = signed(secret="not-the-secret")

    response = post(client, body, headers)

    assert response.status_code == 400
    stored = WebhookEvent.objects.get()
    assert not stored.verified and stored.provider_event_id is None and not stored.processed_at
    assert event_log["events"] == []
    # The forged copy does not take the slot of the real event with the same id.
    real = post(client, body, {"HTTP_SANDBOX_SIGNATURE": _sign(body)})
    assert real.json() == {"received": True, "duplicate": False}


def _sign(body: bytes) -> str:
    import time

    now = int(time.time())
    return f"t={now},v1={signing._digest(settings.SANDBOX_WEBHOOK_SECRET, now, body)}"


def test_a_missing_signature_or_a_stale_one_is_refused(client):
    _, body = signed()
    assert post(client, body, {}).status_code == 400
    old = f"t=1000,v1={signing._digest(settings.SANDBOX_WEBHOOK_SECRET, 1000, body)}"
    assert post(client, body, {"HTTP_SANDBOX_SIGNATURE": old}).status_code == 400


def test_an_unknown_gateway_is_404_and_get_is_405(client):
    headers, body = signed()
    assert post(client, body, headers, url="/gateways/paypal/webhook").status_code == 404
    assert client.get(URL).status_code == 405


def test_an_operator_account_verifies_with_its_own_secret(client, merchant):
    account = GatewayAccount.objects.create(
        merchant=merchant.merchant, environment="test", gateway="sandbox",
        webhook_secret="whsec_account_own",
    )
    url = f"{URL}/{account.id}"
    headers, body = signed()  # the server default's secret
    assert post(client, body, headers, url=url).status_code == 400
    headers, body = signed(secret="whsec_account_own")
    assert post(client, body, headers, url=url).status_code == 200
    stored = WebhookEvent.objects.get(verified=True)
    assert stored.gateway_account_id == account.id and stored.merchant_id == merchant.merchant.id


def test_a_failing_handler_leaves_the_event_unprocessed_and_reprocessing_applies_it(
    client, settings, scope
):
    settings.GATEWAY_EVENT_HANDLERS = ["tests.gateways.test_webhooks.failing_handler"]
    headers, body = signed()
    assert post(client, body, headers).status_code == 200  # stored: the provider may stop
    stored = WebhookEvent.objects.get()
    assert stored.processed_at is None and "billing is down" in stored.processing_error

    settings.GATEWAY_EVENT_HANDLERS = []
    from gateways.services.webhooks import webhook_process

    assert webhook_process(webhook_event_id=stored.id) is True
    stored.refresh_from_db()
    assert stored.processed_at and stored.processing_error == "" and stored.processing_attempts == 2


def failing_handler(**kwargs):
    raise RuntimeError("billing is down")


def test_the_admin_reprocess_action_runs_an_event_again(admin_client, event_log, scope):
    saved_card(scope, "4242424242424242")
    stored = WebhookEvent.objects.get()
    assert len(event_log["events"]) == 1

    response = admin_client.post("/admin/gateways/webhookevent/",
                                 {"action": "reprocess", "_selected_action": [stored.id]})

    assert response.status_code == 302
    assert len(event_log["events"]) == 2

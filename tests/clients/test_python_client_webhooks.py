"""`verify_webhook` against what the server really sends (a delivery to a local endpoint), and
against bodies and signatures that must be refused."""

from __future__ import annotations

import json
import time

import pytest
from cynco_billing import (
    CyncoBillingError,
    WebhookVerificationError,
    sign_webhook_payload,
    verify_webhook,
)

from billing.webhook_signatures import sign as server_sign
from tests.clients.catalog import paying_customer, sell_plans

SECRET = "whsec_" + "3f" * 24
BODY = (b'{"id":"evt_test_123","type":"subscription.activated",'
        b'"created":"2026-03-17T00:00:00Z","data":{"subscriptionId":"psub_abc"}}')


def test_a_delivery_from_the_server_verifies_with_the_endpoint_secret(billing, receiver):
    sell_plans(billing)
    endpoint = billing.create_webhook(receiver.url, events=["subscription.activated"])
    paying_customer(billing)
    deadline = time.monotonic() + 20
    while not receiver.received and time.monotonic() < deadline:
        time.sleep(0.1)
    [delivery] = receiver.received
    event = verify_webhook(delivery.body, delivery.headers["X-Cynco-Signature"],
                           endpoint.secret)
    assert event["type"] == "subscription.activated"
    assert event["id"] == delivery.headers["X-Cynco-Event-Id"]
    with pytest.raises(WebhookVerificationError):
        verify_webhook(delivery.body, delivery.headers["X-Cynco-Signature"], SECRET)


def test_the_client_signs_as_the_server_does():
    assert sign_webhook_payload(BODY, SECRET) == server_sign(BODY, SECRET)
    assert sign_webhook_payload(BODY.decode(), SECRET) == server_sign(BODY, SECRET)
    assert verify_webhook(BODY, server_sign(BODY, SECRET), SECRET)["id"] == "evt_test_123"
    assert verify_webhook(BODY.decode(), server_sign(BODY, SECRET).upper(), SECRET)


@pytest.mark.parametrize("signature, message", [
    (None, "Missing X-Cynco-Signature header"),
    ("", "Missing X-Cynco-Signature header"),
    ("zz-not-hex", "Invalid webhook signature"),
    ("sha256=" + "0" * 64, "Invalid webhook signature"),
    ("ab" * 31, "Invalid webhook signature"),
])
def test_missing_malformed_and_wrong_signatures_are_refused(signature, message):
    with pytest.raises(WebhookVerificationError) as refused:
        verify_webhook(BODY, signature, SECRET)
    assert str(refused.value.message) == message
    assert isinstance(refused.value, CyncoBillingError)
    assert refused.value.code == "WEBHOOK_SIGNATURE_INVALID"


def test_a_body_changed_by_one_byte_is_refused():
    signature = server_sign(BODY, SECRET)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY.replace(b"psub_abc", b"psub_abd"), signature, SECRET)


def test_a_signed_body_that_is_not_an_event_is_refused_as_a_payload_error():
    for body in (b"not json", b'{"type": "invoice.paid"}', b"[1, 2]"):
        with pytest.raises(WebhookVerificationError) as refused:
            verify_webhook(body, server_sign(body, SECRET), SECRET)
        assert refused.value.code == "WEBHOOK_PAYLOAD_INVALID"


def test_a_timestamped_signature_is_held_to_the_tolerance():
    signed_at = 1_800_000_000
    digest = server_sign(str(signed_at).encode() + b"." + BODY, SECRET)
    header = f"t={signed_at},v1={digest}"
    assert verify_webhook(BODY, header, SECRET, now=signed_at + 299)["id"] == "evt_test_123"
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify_webhook(BODY, header, SECRET, now=signed_at + 301)
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify_webhook(BODY, header, SECRET, now=signed_at - 301)
    assert verify_webhook(BODY, header, SECRET, tolerance=3600, now=signed_at + 600)
    assert json.loads(BODY)["id"] == "evt_test_123"

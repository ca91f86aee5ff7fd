"""What localstripe answers, checked against Stripe's published OpenAPI definition.

Every object the Stripe gateway reads is fetched raw from localstripe (the JSON our gateway
gets) after the flows the gateway runs, and compared with Stripe's schema of it
(tests/gateways/stripe_openapi.json). Where localstripe 1.15.10 differed, our launcher
(tests/gateways/localstripe_server.py) makes it answer Stripe's shape, so a test that passes
here passes on Stripe's shape, not on localstripe's approximation.
"""

from __future__ import annotations

import json
import time

import pytest
import requests

from gateways.stripe.events import HANDLED_EVENT_TYPES
from tests.gateways.stripe_shapes import definition, problems
from tests.gateways.test_stripe import DECLINED_LATER, THREE_DS, VISA, card, charge, raw_client, \
    saved_card

pytestmark = pytest.mark.django_db


def raw(account, path: str, **params) -> dict:
    """The JSON localstripe answers, exactly as received."""
    from django.conf import settings

    key = settings.GATEWAY_DEFAULT_CREDENTIALS["stripe"]["secret_key"]
    response = requests.get(f"{account.url}{path}", params=params, auth=(key, ""), timeout=5)
    response.raise_for_status()
    return response.json()


def test_the_event_types_we_act_on_are_stripes():
    assert set(HANDLED_EVENT_TYPES) <= set(definition()["event_types"])
    assert definition()["source"]["schemas"]["api_version"]


def test_every_object_the_gateway_reads_is_in_stripes_shape(scope, stripe_account):
    started = int(time.time()) - 1
    found: list[str] = []
    token = saved_card(scope, stripe_account, VISA, key="setup-shapes")
    method = raw(stripe_account, f"/v1/payment_methods/{token}")
    found += problems("payment_method", method)
    assert method["card"]["last4"] == "4242"

    paid = charge(scope, token, key="inv-shapes:charge", amount=5000)
    intent = raw(stripe_account, f"/v1/payment_intents/{paid.provider_payment_id}")
    found += problems("payment_intent", intent)
    assert isinstance(intent["latest_charge"], str)  # an id unless expanded, as on Stripe
    expanded = raw(stripe_account, f"/v1/payment_intents/{paid.provider_payment_id}",
                   **{"expand[]": "latest_charge"})
    found += problems("payment_intent", expanded) + problems("charge", expanded["latest_charge"])

    _, delivered = stripe_account.webhooks.wait_for(
        lambda event: event["type"] == "payment_intent.succeeded"
        and event["data"]["object"]["id"] == paid.provider_payment_id)
    event = json.loads(delivered)
    found += problems("event", event) + problems("payment_intent", event["data"]["object"])

    refund = raw_client(stripe_account).v1.refunds.create(
        params={"payment_intent": paid.provider_payment_id, "amount": 1200}).to_dict()
    found += problems("refund", refund)
    found += problems("refund_list", raw(stripe_account, "/v1/refunds",
                                         payment_intent=paid.provider_payment_id))
    listed = raw(stripe_account, "/v1/payment_intents", **{"created[gte]": started, "limit": 100})
    found += problems("payment_intent_list", listed)
    assert paid.provider_payment_id in {intent["id"] for intent in listed["data"]}
    found += problems("payment_intent_search_result", raw(
        stripe_account, "/v1/payment_intents/search",
        query="metadata['cynco_idempotency_key']:'inv-shapes:charge'"))

    setup = raw_client(stripe_account).v1.setup_intents.create(
        params={"usage": "off_session", "payment_method_types": ["card"]})
    found += problems("setup_intent", raw(stripe_account, f"/v1/setup_intents/{setup.id}"))
    assert found == []


def test_a_decline_and_a_3ds_charge_are_in_stripes_shape(scope, stripe_account):
    import stripe

    client = raw_client(stripe_account)
    customer = client.v1.customers.create()
    found: list[str] = []
    for number in (DECLINED_LATER, THREE_DS):
        method = client.v1.payment_methods.create(params=card(number))
        client.v1.payment_methods.attach(method.id, params={"customer": customer.id})
        params = {"amount": 2000, "currency": "myr", "customer": customer.id,
                  "payment_method": method.id, "payment_method_types": ["card"],
                  "confirm": True, "off_session": True}
        try:
            intent = client.v1.payment_intents.create(params=params).to_dict()
        except stripe.CardError as declined:
            body = declined.json_body
            found += problems("error", body)
            assert (body["error"]["type"], body["error"]["decline_code"]) == (
                "card_error", "generic_decline")
            intent = body["error"]["payment_intent"]
            assert intent["status"] == "requires_payment_method"
        found += problems("payment_intent", intent)
        found += problems("payment_intent", raw(stripe_account,
                                                f"/v1/payment_intents/{intent['id']}"))
    assert found == []


def test_our_checks_catch_an_object_that_is_not_stripes():
    # The schema check itself: what localstripe used to answer is named, field by field.
    assert problems("charge", {"id": "ch_1", "object": "charge", "amount": 100}) != []
    assert any("confirmation_method" in problem for problem in problems("payment_intent", {
        "id": "pi_1", "object": "payment_intent", "amount": 1, "capture_method": "automatic",
        "created": 1, "currency": "myr", "livemode": False, "payment_method_types": ["card"],
        "status": "succeeded"}))

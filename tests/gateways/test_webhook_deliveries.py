"""Incoming webhooks of Stripe and CHIP in their official shapes, delivered as providers do:
replayed, out of order, forged, and of types we do not act on.

Stripe's payloads are built from Stripe's own example objects and checked against its OpenAPI
schemas before they are sent (tests/gateways/stripe_shapes.py); CHIP's are the fake CHIP
server's, in the shapes CHIP's SDKs define (tests/gateways/fake_chip.py). Each goes through our
real endpoint; the gateways are localstripe and the fake CHIP server.

"Out of order" is the case a provider's retries make ordinary: our charge call reached the
gateway but its answer was lost (the attempt is still pending), the payment was then refunded
at the gateway (its dashboard), and the refund's event arrives before the payment's.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from gateways import registry
from gateways.base import PaymentLookup, SavedPaymentMethod
from gateways.models import PaymentAttempt, WebhookEvent
from gateways.services.checkout import payment_method_save
from gateways.services.payments import charge_request_of, charge_start
from tests.gateways import stripe_shapes as official
from tests.gateways.conftest import STRIPE_WEBHOOK_SECRET
from tests.gateways.fake_chip import GOOD_CARD
from tests.gateways.test_chip import saved_token
from tests.gateways.test_stripe import VISA, raw_client, saved_card

pytestmark = pytest.mark.django_db(transaction=True)


def deliver(client, gateway: str, headers: dict[str, str], body: bytes):
    meta = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()
            if name.lower() != "content-type"}
    return client.post(f"/gateways/{gateway}/webhook", body, content_type="application/json",
                       **meta)


def answers(client, gateway: str, delivery, times: int) -> list:
    return [deliver(client, gateway, *delivery).json() for _ in range(times)]


def attempts_told(event_log) -> list[tuple[str, str, str]]:
    return [(result.id, result.status, via) for result, via in event_log["attempts"]]


def lost_answer_charge(scope, gateway_name: str, token: str, *, key: str) -> PaymentAttempt:
    """A charge the gateway took whose answer never came back: pending on our side."""
    method = payment_method_save(scope=scope, customer_reference="pcm_ali", gateway=gateway_name,
                                 gateway_account_id=None, method=SavedPaymentMethod(token=token))
    started = charge_start(scope=scope, payment_method_id=method.id, amount=3000, currency="MYR",
                           idempotency_key=key, source_reference=f"pinv_{key}")
    attempt = PaymentAttempt.objects.get(pk=started.id)
    answer = registry.gateway_for(scope).charge(charge_request_of(attempt))
    assert answer.status == "succeeded"
    attempt.refresh_from_db()
    assert attempt.status == "pending" and not attempt.provider_payment_id
    return attempt


# --- Stripe ---------------------------------------------------------------------------------

def stripe_payment_delivery(account, intent_id: str, *, event_id: str, event_type: str =
                            "payment_intent.succeeded"):
    """The official event of a PaymentIntent as it stands at localstripe (ids, amounts and
    metadata from there, every other field Stripe's), signed with the endpoint's secret."""
    intent = raw_client(account).v1.payment_intents.retrieve(intent_id).to_dict()
    obj = official.official_payment_intent(
        id=intent["id"], amount=intent["amount"], currency=intent["currency"],
        status=intent["status"], metadata=intent["metadata"],
        payment_method=intent["payment_method"], latest_charge=intent["latest_charge"])
    return official.signed(official.official_event(event_type, obj, id=event_id),
                           STRIPE_WEBHOOK_SECRET)


def stripe_refund_delivery(refund: dict, *, event_id: str):
    obj = official.official_refund(id=refund["id"], amount=refund["amount"],
                                   currency=refund["currency"],
                                   payment_intent=refund["payment_intent"],
                                   metadata=refund.get("metadata") or {})
    return official.signed(official.official_event("refund.updated", obj, id=event_id),
                           STRIPE_WEBHOOK_SECRET)


def test_stripe_an_event_replayed_twice_is_processed_once(client, scope, stripe_account,
                                                          event_log):
    token = saved_card(scope, stripe_account, VISA, key="setup-replay")
    attempt = lost_answer_charge(scope, "stripe", token, key="replay")
    intent_id = registry.gateway_for(scope).fetch_payment(
        _lookup(attempt)).provider_payment_id
    delivery = stripe_payment_delivery(stripe_account, intent_id, event_id="evt_replay_1")

    assert answers(client, "stripe", delivery, 3) == [
        {"received": True, "duplicate": False}, *[{"received": True, "duplicate": True}] * 2]

    attempt.refresh_from_db()
    assert (attempt.status, attempt.provider_payment_id) == ("succeeded", intent_id)
    assert attempts_told(event_log) == [(attempt.id, "succeeded", "webhook")]
    assert WebhookEvent.objects.filter(provider_event_id="evt_replay_1").count() == 1


def test_stripe_a_refund_event_before_its_payments_event(client, scope, stripe_account,
                                                         event_log):
    token = saved_card(scope, stripe_account, VISA, key="setup-order")
    attempt = lost_answer_charge(scope, "stripe", token, key="order")
    intent_id = registry.gateway_for(scope).fetch_payment(_lookup(attempt)).provider_payment_id
    refund = raw_client(stripe_account).v1.refunds.create(  # made in Stripe's dashboard
        params={"payment_intent": intent_id, "amount": 1000}).to_dict()

    first = deliver(client, "stripe", *stripe_refund_delivery(refund, event_id="evt_order_re"))
    attempt.refresh_from_db()
    assert first.status_code == 200 and attempt.status == "pending"
    refund_event = WebhookEvent.objects.get(provider_event_id="evt_order_re")
    assert refund_event.processed_at and refund_event.event["provider_refund_id"] == refund["id"]

    then = deliver(client, "stripe", *stripe_payment_delivery(stripe_account, intent_id,
                                                                event_id="evt_order_pi"))
    attempt.refresh_from_db()
    assert then.status_code == 200 and attempt.status == "succeeded"
    assert attempts_told(event_log) == [(attempt.id, "succeeded", "webhook")]
    assert not PaymentAttempt.objects.filter(kind="refund").exists()  # none of ours invented
    assert [e.type for e, _, _ in event_log["events"]] == ["refund.succeeded",
                                                          "payment.succeeded"]


def test_stripe_a_bad_signature_is_refused_and_never_processed(client, scope, stripe_account,
                                                               event_log):
    token = saved_card(scope, stripe_account, VISA, key="setup-forged")
    attempt = lost_answer_charge(scope, "stripe", token, key="forged")
    intent_id = registry.gateway_for(scope).fetch_payment(_lookup(attempt)).provider_payment_id
    headers, body = stripe_payment_delivery(stripe_account, intent_id, event_id="evt_forged")
    wrong = official.signed(json.loads(body), "whsec_not_ours")[0]
    stale = official.signed(json.loads(body), STRIPE_WEBHOOK_SECRET, timestamp=1000)[0]

    for forged in (wrong, stale, {}):
        assert deliver(client, "stripe", forged, body).status_code == 400
    attempt.refresh_from_db()
    assert attempt.status == "pending" and event_log["events"] == []
    assert WebhookEvent.objects.filter(verified=False).count() == 3
    assert not WebhookEvent.objects.filter(verified=True).exists()


def test_stripe_an_event_type_we_do_not_act_on_is_kept_and_changes_nothing(
    client, scope, stripe_account, event_log
):
    token = saved_card(scope, stripe_account, VISA, key="setup-other")
    attempt = lost_answer_charge(scope, "stripe", token, key="other")
    intent_id = registry.gateway_for(scope).fetch_payment(_lookup(attempt)).provider_payment_id
    delivery = stripe_payment_delivery(stripe_account, intent_id, event_id="evt_other",
                                       event_type="payment_intent.amount_capturable_updated")
    assert "payment_intent.amount_capturable_updated" in official.definition()["event_types"]

    assert deliver(client, "stripe", *delivery).json() == {"received": True, "duplicate": False}

    stored = WebhookEvent.objects.get(provider_event_id="evt_other")
    attempt.refresh_from_db()
    assert stored.processed_at and stored.event_type == "payment_intent.amount_capturable_updated"
    assert attempt.status == "pending" and event_log["attempts"] == []
    assert [e.type for e, _, _ in event_log["events"]] == ["other"]


def _lookup(attempt):
    return PaymentLookup(idempotency_key=attempt.idempotency_key)


# --- CHIP -----------------------------------------------------------------------------------

def chip_paid_charge(scope, chip, key: str):
    """A CHIP charge whose answer was lost, and the `purchase.paid` callback CHIP made of it
    at that moment (delivered later, when the test says)."""
    token = saved_token(scope, chip, GOOD_CARD, key=f"setup-{key}")
    attempt = lost_answer_charge(scope, "chip", token, key=key)
    purchase_id = registry.gateway_for(scope).fetch_payment(_lookup(attempt)).provider_payment_id
    return attempt, purchase_id, chip.callback(chip.purchases[purchase_id], "purchase.paid")


def test_chip_a_callback_replayed_twice_is_processed_once(client, scope, chip_account,
                                                         event_log):
    attempt, purchase_id, paid = chip_paid_charge(scope, chip_account, "c-replay")

    assert answers(client, "chip", paid, 3) == [
        {"received": True, "duplicate": False}, *[{"received": True, "duplicate": True}] * 2]

    attempt.refresh_from_db()
    assert (attempt.status, attempt.provider_payment_id) == ("succeeded", purchase_id)
    assert attempts_told(event_log) == [(attempt.id, "succeeded", "webhook")]


def test_chip_a_refund_webhook_before_its_payments_callback(client, scope, chip_account,
                                                            event_log):
    from gateways.chip.client import ChipClient

    attempt, purchase_id, paid = chip_paid_charge(scope, chip_account, "c-order")
    refund = ChipClient(registry.gateway_for(scope).context).refund(purchase_id, 1000)  # portal

    first = deliver(client, "chip", *chip_account.refund_webhook(refund["id"]))
    attempt.refresh_from_db()
    assert first.status_code == 200 and attempt.status == "pending"
    assert WebhookEvent.objects.get(event_type="refund.succeeded").processed_at

    assert deliver(client, "chip", *paid).status_code == 200
    attempt.refresh_from_db()
    assert attempt.status == "succeeded"
    assert attempts_told(event_log) == [(attempt.id, "succeeded", "webhook")]
    assert not PaymentAttempt.objects.filter(kind="refund").exists()
    refund_event, payment_event = (e for e, _, _ in event_log["events"])
    assert (refund_event.type, refund_event.provider_payment_id, refund_event.amount) == (
        "refund.succeeded", purchase_id, 1000)
    assert payment_event.type == "payment.succeeded"


def test_chip_a_bad_signature_is_refused_and_never_processed(client, scope, chip_account,
                                                             event_log):
    from cryptography.hazmat.primitives.asymmetric import rsa

    attempt, _, (headers, body) = chip_paid_charge(scope, chip_account, "c-forged")
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tampered = body.replace(b'"status": "paid"', b'"status": "paid", "x": 1')

    assert deliver(client, "chip", {"X-Signature": chip_account.sign(body, key=stranger)},
                   body).status_code == 400
    assert deliver(client, "chip", headers, tampered).status_code == 400
    assert deliver(client, "chip", {"X-Signature": "not base64!"}, body).status_code == 400
    attempt.refresh_from_db()
    assert attempt.status == "pending" and event_log["events"] == []
    assert not WebhookEvent.objects.filter(verified=True).exists()


def test_chip_an_event_type_we_do_not_act_on_is_kept_and_changes_nothing(
    client, scope, chip_account, event_log
):
    attempt, purchase_id, _ = chip_paid_charge(scope, chip_account, "c-other")
    delivery = chip_account.webhook(chip_account.purchases[purchase_id],
                                    "purchase.recurring_token_deleted")

    assert deliver(client, "chip", *delivery).json() == {"received": True, "duplicate": False}

    stored = WebhookEvent.objects.get(gateway="chip", verified=True)
    attempt.refresh_from_db()
    assert stored.processed_at and stored.event_type == "purchase.recurring_token_deleted"
    assert attempt.status == "pending" and event_log["attempts"] == []


def test_the_settings_give_chip_a_webhook_key_of_its_own():
    assert "webhook_public_key" in settings.GATEWAY_DEFAULT_CREDENTIALS["chip"]["options"]

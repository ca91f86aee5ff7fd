"""The Stripe gateway against localstripe (a stateful fake Stripe in its own process).

No function of ours or of `stripe` is patched: every call goes over HTTP through the official
`stripe` package to localstripe, and webhooks come back signed by localstripe itself.
"""

from __future__ import annotations

import json

import pytest
import stripe

from cynco.tenancy import Scope
from gateways import registry
from gateways.base import (
    ChargeRequest,
    CheckoutRequest,
    GatewayNotFound,
    IdempotencyConflict,
    PaymentLookup,
    RefundExceedsPayment,
    RefundRequest,
    SavedPaymentMethod,
    SessionMode,
    SessionStatus,
    WebhookVerificationError,
)
from gateways.models import PaymentAttempt, WebhookEvent
from gateways.services.checkout import payment_method_save
from gateways.services.payments import charge_execute, charge_start, refund_execute, refund_start
from tests.factories import make_merchant
from tests.gateways.conftest import CANCEL_URL, SUCCESS_URL
from tests.gateways.servers import free_port

pytestmark = pytest.mark.django_db
# The services commit their own transactions, so their tests run outside a test transaction.
commits = pytest.mark.django_db(transaction=True)

VISA = "4242424242424242"
DECLINED_LATER = "4000000000000341"  # saves fine, every charge is declined
THREE_DS = "4000002760003184"


def raw_client(account) -> stripe.StripeClient:
    """What the customer's browser (Stripe.js) and the tests' bookkeeping use."""
    from django.conf import settings

    return stripe.StripeClient(settings.GATEWAY_DEFAULT_CREDENTIALS["stripe"]["secret_key"],
                               base_addresses={"api": account.url}, max_network_retries=0)


def open_checkout(scope: Scope, *, amount=2000, key="chk-1", save=True, mode="payment"):
    """A hosted session opened on the scope's gateway (here: Stripe)."""
    return registry.gateway_for(scope).create_checkout_session(CheckoutRequest(
        amount=amount, currency="MYR", customer_reference="pcm_ali", description="Pro plan",
        success_url=SUCCESS_URL, cancel_url=CANCEL_URL, idempotency_key=key,
        save_payment_method=save, mode=SessionMode(mode),
    ))


def card(number: str) -> dict:
    return {"type": "card", "card": {"number": number, "exp_month": "12", "exp_year": "2034",
                                     "cvc": "123"}}


def saved_card(scope: Scope, account, number: str, *, key: str = "setup-1") -> str:
    """A card saved through a set-up session: opened by us, confirmed as Stripe.js would."""
    session = open_checkout(scope, amount=0, key=key, mode="setup")
    raw_client(account).v1.setup_intents.confirm(
        session.session_id, params={"payment_method_data": card(number)}
    )
    done = registry.gateway_for(scope).get_checkout_session(session.session_id)
    assert done.status == SessionStatus.COMPLETE
    return done.payment_method.token


def charge(scope, token, *, key="inv-1:charge", amount=2000):
    return registry.gateway_for(scope).charge(ChargeRequest(
        payment_method_token=token, amount=amount, currency="MYR", idempotency_key=key,
        metadata={"cynco_attempt": "payat_test"},
    ))


def intents_with_key(account, key: str) -> list:
    found = raw_client(account).v1.payment_intents.search(
        params={"query": f"metadata['cynco_idempotency_key']:'{key}'"}
    )
    return list(found.data)


def test_a_card_saved_at_a_setup_session_is_charged_off_session(scope, stripe_account):
    session = open_checkout(scope, amount=0, key="setup-ali", mode="setup")
    assert session.status == SessionStatus.OPEN
    assert session.session_id.startswith("seti_")
    assert session.redirect_url.endswith(f"/checkout/stripe/{session.session_id}")

    token = saved_card(scope, stripe_account, VISA, key="setup-ali-2")
    result = charge(scope, token)

    assert result.status == "succeeded"
    assert result.provider_payment_id.startswith("pi_")
    status = registry.gateway_for(scope).fetch_payment(
        PaymentLookup(idempotency_key="inv-1:charge", provider_payment_id=result.provider_payment_id)
    )
    assert (status.state, status.amount, status.currency) == ("succeeded", 2000, "MYR")


def test_the_saved_card_is_described_by_brand_and_last_four(scope, stripe_account):
    session = open_checkout(scope, amount=0, key="setup-desc", mode="setup")
    raw_client(stripe_account).v1.setup_intents.confirm(
        session.session_id, params={"payment_method_data": card(VISA)})
    done = registry.gateway_for(scope).get_checkout_session(session.session_id)
    assert (done.payment_method.brand, done.payment_method.last4) == ("visa", "4242")
    assert done.customer_reference == "pcm_ali"


def test_a_payment_session_is_an_open_payment_intent_for_the_amount(scope, stripe_account):
    session = open_checkout(scope, amount=4900, key="pay-1", save=False)
    assert session.session_id.startswith("pi_")
    assert (session.status, session.amount, session.currency) == ("open", 4900, "MYR")


def test_retrying_a_charge_with_the_same_key_answers_the_first_payment_and_charges_once(
    scope, stripe_account
):
    token = saved_card(scope, stripe_account, VISA)

    first = charge(scope, token, key="inv-7:charge")
    again = charge(scope, token, key="inv-7:charge")

    assert again == first
    assert len(intents_with_key(stripe_account, "inv-7:charge")) == 1


def test_the_same_key_for_another_amount_is_an_idempotency_conflict(scope, stripe_account):
    token = saved_card(scope, stripe_account, VISA)
    charge(scope, token, key="inv-8:charge", amount=2000)
    with pytest.raises(IdempotencyConflict):
        charge(scope, token, key="inv-8:charge", amount=9000)


def test_a_declined_card_is_a_failed_result_with_the_reason(scope, stripe_account):
    token = saved_card(scope, stripe_account, DECLINED_LATER)

    result = charge(scope, token)

    assert result.status == "failed"
    assert result.failure_code == "payment_failed"
    assert "declined" in result.failure_message.lower()
    assert result.provider_payment_id.startswith("pi_")


def test_a_card_that_needs_3ds_asks_for_action_and_succeeds_once_authenticated(
    scope, stripe_account
):
    client = raw_client(stripe_account)
    customer = client.v1.customers.create()
    method = client.v1.payment_methods.create(params=card(THREE_DS))
    client.v1.payment_methods.attach(method.id, params={"customer": customer.id})

    result = charge(scope, method.id, key="inv-3ds:charge")

    assert result.status == "requires_action"
    assert result.failure_code == "3ds_required"
    assert result.action_url.endswith(f"/checkout/stripe/{result.provider_payment_id}")
    # The customer passes 3-D Secure on the issuer's page (localstripe's stand-in for it).
    intent = client.v1.payment_intents.retrieve(result.provider_payment_id)
    client.raw_request("post", f"/v1/payment_intents/{intent.id}/_authenticate",
                       client_secret=intent.client_secret, success="true")
    status = registry.gateway_for(scope).fetch_payment(PaymentLookup(
        idempotency_key="inv-3ds:charge", provider_payment_id=result.provider_payment_id))
    assert status.state == "succeeded"


def test_an_unknown_payment_method_is_refused_as_not_found(scope, stripe_account):
    with pytest.raises(GatewayNotFound):
        charge(scope, "pm_doesnotexist")


def test_a_partial_refund_then_more_than_is_left_is_refused(scope, stripe_account):
    token = saved_card(scope, stripe_account, VISA)
    paid = charge(scope, token, amount=5000)
    gateway = registry.gateway_for(scope)

    first = gateway.refund(RefundRequest(provider_payment_id=paid.provider_payment_id,
                                         amount=3000, idempotency_key="ref-1"))
    again = gateway.refund(RefundRequest(provider_payment_id=paid.provider_payment_id,
                                         amount=3000, idempotency_key="ref-1"))

    assert first.status == "succeeded" and first.provider_refund_id.startswith("re_")
    assert again == first
    with pytest.raises(RefundExceedsPayment):
        gateway.refund(RefundRequest(provider_payment_id=paid.provider_payment_id,
                                     amount=2001, idempotency_key="ref-2"))
    status = gateway.fetch_payment(PaymentLookup(idempotency_key="x",
                                                 provider_payment_id=paid.provider_payment_id))
    assert status.amount_refunded == 3000


def test_a_payment_is_found_by_its_idempotency_key_when_the_call_never_answered(
    scope, stripe_account
):
    token = saved_card(scope, stripe_account, VISA)
    paid = charge(scope, token, key="inv-lost:charge")
    gateway = registry.gateway_for(scope)

    found = gateway.fetch_payment(PaymentLookup(idempotency_key="inv-lost:charge"))
    never = gateway.fetch_payment(PaymentLookup(idempotency_key="inv-never:charge"))

    assert (found.state, found.provider_payment_id) == ("succeeded", paid.provider_payment_id)
    assert never.state == "not_found"


def test_another_merchants_payment_is_unknown_on_a_shared_stripe_account(scope, stripe_account):
    token = saved_card(scope, stripe_account, VISA)
    paid = charge(scope, token)
    other = Scope(make_merchant(name="Other").merchant.id, "test")

    with pytest.raises(GatewayNotFound):
        registry.gateway_for(other).refund(RefundRequest(
            provider_payment_id=paid.provider_payment_id, amount=100, idempotency_key="steal"))
    assert registry.gateway_for(other).fetch_payment(PaymentLookup(
        idempotency_key="x", provider_payment_id=paid.provider_payment_id)).state == "not_found"


@commits
def test_an_unreachable_stripe_is_unavailable_and_leaves_the_attempt_pending(
    scope, stripe_account, settings
):
    token = saved_card(scope, stripe_account, VISA)
    method = payment_method_save(scope=scope, customer_reference="pcm_ali", gateway="stripe",
                                 gateway_account_id=None, method=SavedPaymentMethod(token=token))

    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"
    attempt = charge_start(scope=scope, payment_method_id=method.id, amount=2000,
                           currency="MYR", idempotency_key="inv-down:charge")
    outcome = charge_execute(attempt_id=attempt.id)

    assert outcome.status == "pending"
    assert PaymentAttempt.objects.get(pk=attempt.id).last_error


def test_a_webhook_signed_by_stripe_is_accepted_and_a_forged_one_rejected(
    scope, stripe_account, client
):
    token = saved_card(scope, stripe_account, VISA)
    paid = charge(scope, token, key="inv-hook:charge")
    headers, body = stripe_account.webhooks.wait_for(
        lambda event: event["type"] == "payment_intent.succeeded"
        and event["data"]["object"]["id"] == paid.provider_payment_id
    )

    event = registry.gateway_for(scope).parse_webhook(headers=headers, body=body)
    assert (event.type, event.provider_payment_id) == ("payment.succeeded", paid.provider_payment_id)
    assert (event.merchant_id, event.environment) == (scope.merchant_id, "test")

    forged = body.replace(b'"amount": 2000', b'"amount": 1')
    with pytest.raises(WebhookVerificationError):
        registry.gateway_for(scope).parse_webhook(headers=headers, body=forged)

    signature = {"HTTP_STRIPE_SIGNATURE": headers["Stripe-Signature"]}
    accepted = client.post("/gateways/stripe/webhook", body, content_type="application/json",
                           **signature)
    refused = client.post("/gateways/stripe/webhook", forged, content_type="application/json",
                          **signature)
    replay = client.post("/gateways/stripe/webhook", body, content_type="application/json",
                         **signature)
    assert accepted.status_code == 200 and refused.status_code == 400
    assert json.loads(replay.content) == {"received": True, "duplicate": True}
    assert WebhookEvent.objects.filter(gateway="stripe", verified=True).count() == 1


@commits
def test_billing_charges_and_refunds_through_the_services_end_to_end(
    scope, stripe_account, event_log
):
    session = open_checkout(scope, amount=0, key="setup-e2e", mode="setup")
    raw_client(stripe_account).v1.setup_intents.confirm(
        session.session_id, params={"payment_method_data": card(VISA)})
    saved = registry.gateway_for(scope).get_checkout_session(session.session_id).payment_method
    method = payment_method_save(scope=scope, customer_reference="pcm_ali", gateway="stripe",
                                 gateway_account_id=None, method=saved)

    attempt = charge_start(scope=scope, payment_method_id=method.id, amount=2500,
                           currency="MYR", idempotency_key="pinv_e2e:charge:1",
                           source_reference="pinv_e2e")
    outcome = charge_execute(attempt_id=attempt.id)
    assert outcome.status == "succeeded"
    assert charge_execute(attempt_id=attempt.id) == outcome

    refund = refund_start(scope=scope, charge_id=attempt.id, amount=1000,
                          idempotency_key="pinv_e2e:refund:1")
    refunded = refund_execute(attempt_id=refund.id)
    assert refunded.status == "succeeded"
    status = registry.gateway_for(scope).fetch_payment(PaymentLookup(
        idempotency_key="pinv_e2e:charge:1"))
    assert (status.state, status.amount_refunded) == ("succeeded", 1000)


def test_check_flags_stripe_as_default_without_its_credentials(settings):
    from gateways.apps import check_default_gateways

    settings.GATEWAY_DEFAULT_LIVE = "stripe"
    settings.GATEWAY_DEFAULT_CREDENTIALS = {**settings.GATEWAY_DEFAULT_CREDENTIALS,
                                            "stripe": {"secret_key": "sk_live_x"}}
    problems = [p for p in check_default_gateways() if p.id == "gateways.E002"]
    assert len(problems) == 1 and "STRIPE_WEBHOOK_SECRET" in problems[0].msg

    settings.GATEWAY_DEFAULT_CREDENTIALS = {**settings.GATEWAY_DEFAULT_CREDENTIALS, "stripe": {
        "secret_key": "sk_live_x", "webhook_secret": "whsec_x"}}
    assert not [p for p in check_default_gateways() if p.id == "gateways.E002"]

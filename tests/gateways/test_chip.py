"""The CHIP gateway against a fake CHIP server that speaks its REST API and signs callbacks.

Nothing of ours is patched: the gateway talks HTTP to the fake (tests/gateways/fake_chip.py),
and callbacks are signed with the fake's own RSA key and verified with the key it serves.
"""

from __future__ import annotations

import json

import pytest

from cynco.tenancy import Scope
from gateways import registry
from gateways.base import (
    ChargeRequest,
    CheckoutRequest,
    GatewayNotFound,
    GatewayRejected,
    IdempotencyConflict,
    PaymentLookup,
    RefundExceedsPayment,
    RefundRequest,
    SessionMode,
    SessionStatus,
    WebhookVerificationError,
)
from gateways.models import WebhookEvent
from gateways.services.checkout import payment_method_save
from gateways.services.payments import charge_execute, charge_start, refund_execute, refund_start
from tests.factories import make_merchant
from tests.gateways.conftest import CANCEL_URL, SUCCESS_URL
from tests.gateways.fake_chip import DECLINED_CARD, GOOD_CARD

pytestmark = pytest.mark.django_db
commits = pytest.mark.django_db(transaction=True)


def open_checkout(scope: Scope, *, amount=2000, key="chk-1", save=True, mode="payment",
                  email="ali@example.com"):
    return registry.gateway_for(scope).create_checkout_session(CheckoutRequest(
        amount=amount, currency="MYR", customer_reference="pcm_ali", description="Pro plan",
        success_url=SUCCESS_URL, cancel_url=CANCEL_URL, idempotency_key=key,
        save_payment_method=save, mode=SessionMode(mode),
        metadata={"email": email} if email else {},
    ))


def saved_token(scope: Scope, chip, card: str = GOOD_CARD, *, key="setup-1") -> str:
    session = open_checkout(scope, amount=0, key=key, mode="setup")
    chip.pay(session.session_id, card)
    done = registry.gateway_for(scope).get_checkout_session(session.session_id)
    assert done.status == SessionStatus.COMPLETE
    return done.payment_method.token


def charge(scope, token, *, key="inv-1:charge", amount=2000):
    return registry.gateway_for(scope).charge(ChargeRequest(
        payment_method_token=token, amount=amount, currency="MYR", idempotency_key=key))


def test_a_checkout_is_a_chip_purchase_that_saves_a_recurring_token(scope, chip_account):
    session = open_checkout(scope, amount=4900, key="chk-pay")
    purchase = chip_account.purchases[session.session_id]

    assert session.status == SessionStatus.OPEN and session.redirect_url == purchase["checkout_url"]
    assert (session.amount, session.currency) == (4900, "MYR")
    assert purchase["force_recurring"] is True
    assert purchase["client"]["email"] == "ali@example.com"
    assert (purchase["success_redirect"], purchase["failure_redirect"]) == (SUCCESS_URL, CANCEL_URL)
    assert purchase["success_callback"].endswith("/gateways/chip/webhook")

    chip_account.pay(session.session_id, GOOD_CARD)
    done = registry.gateway_for(scope).get_checkout_session(session.session_id)
    assert done.status == SessionStatus.COMPLETE
    assert done.provider_payment_id == session.session_id
    assert (done.payment_method.token, done.payment_method.last4) == (session.session_id, "1111")


def test_opening_the_same_session_twice_answers_the_same_purchase(scope, chip_account):
    first = open_checkout(scope, key="chk-twice")
    again = open_checkout(scope, key="chk-twice")
    assert again.session_id == first.session_id
    with pytest.raises(IdempotencyConflict):
        open_checkout(scope, key="chk-twice", amount=99)


def test_a_checkout_without_the_customers_email_is_refused(scope, chip_account):
    with pytest.raises(GatewayRejected) as refused:
        open_checkout(scope, key="chk-no-email", email="")
    assert refused.value.code == "email_required"


def test_a_saved_token_is_charged_in_sen(scope, chip_account):
    token = saved_token(scope, chip_account)

    result = charge(scope, token, amount=2590)

    assert result.status == "succeeded"
    purchase = chip_account.purchases[result.provider_payment_id]
    assert purchase["purchase"]["total"] == 2590 and purchase["status"] == "paid"
    status = registry.gateway_for(scope).fetch_payment(PaymentLookup(idempotency_key="inv-1:charge"))
    assert (status.state, status.amount, status.currency) == ("succeeded", 2590, "MYR")


def test_retrying_a_charge_with_the_same_key_charges_once(scope, chip_account):
    token = saved_token(scope, chip_account)

    first = charge(scope, token, key="inv-9:charge")
    again = charge(scope, token, key="inv-9:charge")

    assert again == first
    assert chip_account.charges.count(first.provider_payment_id) == 1
    with pytest.raises(IdempotencyConflict):
        charge(scope, token, key="inv-9:charge", amount=1)


def test_a_declined_token_is_a_failed_result_with_the_reason(scope, chip_account):
    token = saved_token(scope, chip_account, "4000000000000341", key="setup-341")

    result = charge(scope, token)

    assert result.status == "failed" and result.failure_code == "payment_failed"
    # CHIP's 400 `purchase_charge_error` says little; the purchase's newest attempt says why.
    assert result.failure_message == "Do not honour (do_not_honour)"
    assert charge(scope, token) == result  # the same key answers the decline, charges nothing


def test_an_unknown_token_is_not_found(scope, chip_account):
    with pytest.raises(GatewayNotFound):
        charge(scope, "00000000-0000-0000-0000-000000000000")


def test_a_partial_refund_then_more_than_is_left_is_refused(scope, chip_account):
    token = saved_token(scope, chip_account)
    paid = charge(scope, token, amount=5000)
    gateway = registry.gateway_for(scope)

    first = gateway.refund(RefundRequest(provider_payment_id=paid.provider_payment_id,
                                         amount=3000, idempotency_key="ref-1"))
    again = gateway.refund(RefundRequest(provider_payment_id=paid.provider_payment_id,
                                         amount=3000, idempotency_key="ref-1"))

    assert first.status == "succeeded" and again == first
    assert chip_account.purchases[paid.provider_payment_id]["refundable_amount"] == 2000
    with pytest.raises(RefundExceedsPayment):
        gateway.refund(RefundRequest(provider_payment_id=paid.provider_payment_id,
                                     amount=2001, idempotency_key="ref-2"))
    status = gateway.fetch_payment(PaymentLookup(idempotency_key="x",
                                                 provider_payment_id=paid.provider_payment_id))
    assert status.amount_refunded == 3000


def test_another_merchants_purchase_is_unknown(scope, chip_account):
    token = saved_token(scope, chip_account)
    paid = charge(scope, token)
    other = Scope(make_merchant(name="Other").merchant.id, "test")

    with pytest.raises(GatewayNotFound):
        registry.gateway_for(other).refund(RefundRequest(
            provider_payment_id=paid.provider_payment_id, amount=100, idempotency_key="r"))
    assert registry.gateway_for(other).fetch_payment(PaymentLookup(
        idempotency_key="x", provider_payment_id=paid.provider_payment_id)).state == "not_found"
    assert registry.gateway_for(scope).fetch_payment(
        PaymentLookup(idempotency_key="never-sent")).state == "not_found"


def test_a_callback_signed_by_chip_is_accepted_and_a_forged_one_rejected(
    scope, chip_account, client
):
    session = open_checkout(scope, key="chk-hook")
    headers, body = chip_account.pay(session.session_id, GOOD_CARD)

    event = registry.gateway_for(scope).parse_webhook(headers=headers, body=body)
    assert (event.type, event.session_id) == ("checkout.completed", session.session_id)
    assert (event.merchant_id, event.environment) == (scope.merchant_id, "test")
    assert event.payment_method.token == session.session_id

    forged = json.dumps({**json.loads(body), "status": "paid", "id": "someone-else"}).encode()
    with pytest.raises(WebhookVerificationError):
        registry.gateway_for(scope).parse_webhook(headers=headers, body=forged)

    signature = {"HTTP_X_SIGNATURE": headers["X-Signature"]}
    accepted = client.post("/gateways/chip/webhook", body, content_type="application/json",
                           **signature)
    refused = client.post("/gateways/chip/webhook", forged, content_type="application/json",
                          **signature)
    unsigned = client.post("/gateways/chip/webhook", body, content_type="application/json")
    replay = client.post("/gateways/chip/webhook", body, content_type="application/json",
                         **signature)
    assert accepted.status_code == 200
    assert refused.status_code == 400 and unsigned.status_code == 400
    assert json.loads(replay.content) == {"received": True, "duplicate": True}
    assert WebhookEvent.objects.filter(gateway="chip", verified=True).count() == 1


def test_a_failed_payment_on_the_hosted_page_leaves_the_session_open(scope, chip_account):
    session = open_checkout(scope, key="chk-declined")
    headers, body = chip_account.pay(session.session_id, DECLINED_CARD)

    again = registry.gateway_for(scope).get_checkout_session(session.session_id)
    event = registry.gateway_for(scope).parse_webhook(headers=headers, body=body)

    assert again.status == SessionStatus.OPEN
    assert again.failure_message == "Insufficient funds (insufficient_funds)"
    assert event.type == "other"


def test_check_flags_chip_as_default_without_its_credentials(settings):
    from gateways.apps import check_default_gateways

    settings.GATEWAY_DEFAULT_TEST = "chip"
    settings.GATEWAY_DEFAULT_CREDENTIALS = {**settings.GATEWAY_DEFAULT_CREDENTIALS,
                                            "chip": {"secret_key": "", "options": {}}}
    problems = [p for p in check_default_gateways() if p.id == "gateways.E002"]
    assert len(problems) == 1
    assert "CHIP_API_KEY" in problems[0].msg and "CHIP_BRAND_ID" in problems[0].msg


@commits
def test_billing_charges_and_refunds_through_the_services_end_to_end(
    scope, chip_account, event_log
):
    token = saved_token(scope, chip_account, key="setup-e2e")
    method = payment_method_save(
        scope=scope, customer_reference="pcm_ali", gateway="chip", gateway_account_id=None,
        method=registry.gateway_for(scope).get_checkout_session(token).payment_method)

    attempt = charge_start(scope=scope, payment_method_id=method.id, amount=2500,
                           currency="MYR", idempotency_key="pinv_e2e:charge:1",
                           source_reference="pinv_e2e")
    outcome = charge_execute(attempt_id=attempt.id)
    assert outcome.status == "succeeded"
    assert charge_execute(attempt_id=attempt.id) == outcome
    assert chip_account.charges.count(outcome.provider_payment_id) == 1

    refund = refund_start(scope=scope, charge_id=attempt.id, amount=1000,
                          idempotency_key="pinv_e2e:refund:1")
    assert refund_execute(attempt_id=refund.id).status == "succeeded"
    assert chip_account.purchases[outcome.provider_payment_id]["refundable_amount"] == 1500


# --- the shapes CHIP defines (docs/gateways.md: each field and its source) ------------------

def test_a_card_set_up_is_a_zero_amount_preauthorization_that_saves_the_card(scope, chip_account):
    session = open_checkout(scope, amount=0, key="setup-shape", mode="setup")
    sent = chip_account.purchases[session.session_id]
    assert (sent["skip_capture"], sent["force_recurring"], sent["purchase"]["total"]) == (
        True, True, 0)

    headers, body = chip_account.pay(session.session_id, GOOD_CARD)

    assert json.loads(body)["event_type"] == "purchase.preauthorized"
    assert chip_account.purchases[session.session_id]["status"] == "preauthorized"
    done = registry.gateway_for(scope).get_checkout_session(session.session_id)
    method = done.payment_method
    assert done.status == SessionStatus.COMPLETE and done.provider_payment_id is None
    assert (method.token, method.brand, method.last4, method.exp_month, method.exp_year) == (
        session.session_id, "visa", "1111", 12, 2034)
    event = registry.gateway_for(scope).parse_webhook(headers=headers, body=body)
    assert event.type == "checkout.completed" and event.payment_method.last4 == "1111"


def test_metadata_stays_with_our_record_since_a_chip_purchase_has_no_such_field(
    scope, chip_account
):
    gateway = registry.gateway_for(scope)
    session = gateway.create_checkout_session(CheckoutRequest(
        amount=2000, currency="MYR", customer_reference="pcm_ali", description="Pro plan",
        success_url=SUCCESS_URL, cancel_url=CANCEL_URL, idempotency_key="chk-meta",
        metadata={"email": "ali@example.com", "cynco_checkout": "pchk_1"}))
    assert "metadata" not in chip_account.purchases[session.session_id]["purchase"]

    headers, body = chip_account.pay(session.session_id, GOOD_CARD)
    event = gateway.parse_webhook(headers=headers, body=body)

    assert event.metadata["cynco_checkout"] == "pchk_1"
    assert (event.merchant_id, event.environment) == (scope.merchant_id, "test")


def test_chip_errors_are_read_from_its_all_list(scope, chip_account, settings):
    from gateways.chip.client import ChipClient, ChipRefused

    token = saved_token(scope, chip_account, key="setup-errors")
    paid = charge(scope, token, amount=1000)
    client = ChipClient(registry.gateway_for(scope).context)

    with pytest.raises(ChipRefused) as refused:
        client.refund(paid.provider_payment_id, 5000)
    assert (refused.value.code, refused.value.message) == (
        "purchase_refund_error", "Cannot refund that amount")
    with pytest.raises(ChipRefused) as again:
        client.charge(paid.provider_payment_id, token)
    assert again.value.code == "purchase_charge_error"


def test_a_refund_is_a_payment_related_to_its_purchase_and_its_webhook_names_both(
    scope, chip_account
):
    token = saved_token(scope, chip_account, key="setup-refund-hook")
    paid = charge(scope, token, amount=3000)
    gateway = registry.gateway_for(scope)

    refund = gateway.refund(RefundRequest(provider_payment_id=paid.provider_payment_id,
                                          amount=1000, idempotency_key="ref-hook"))

    purchase = chip_account.purchases[paid.provider_payment_id]
    assert purchase["status"] == "refunded" and purchase["refundable_amount"] == 2000
    assert purchase["status_history"][-1]["related_object"] == {
        "type": "payment", "id": refund.provider_refund_id}
    headers, body = chip_account.refund_webhook(refund.provider_refund_id)
    event = gateway.parse_webhook(headers=headers, body=body)
    assert (event.type, event.provider_refund_id, event.provider_payment_id, event.amount) == (
        "refund.succeeded", refund.provider_refund_id, paid.provider_payment_id, 1000)
    assert (event.merchant_id, event.environment) == (scope.merchant_id, "test")


def test_a_webhook_is_verified_with_its_own_key_and_a_callback_with_the_company_key(
    scope, chip_account
):
    from cryptography.hazmat.primitives.asymmetric import rsa

    session = open_checkout(scope, key="chk-keys")
    _, body = chip_account.pay(session.session_id, GOOD_CARD)
    gateway = registry.gateway_for(scope)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    for key in (chip_account.company_key, chip_account.webhook_key):
        assert gateway.parse_webhook(headers={"X-Signature": chip_account.sign(body, key=key)},
                                     body=body).session_id == session.session_id
    with pytest.raises(WebhookVerificationError):
        gateway.parse_webhook(headers={"X-Signature": chip_account.sign(body, key=stranger)},
                              body=body)

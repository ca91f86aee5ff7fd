"""The sandbox cards of API.md, at checkout and off-session, through the gateway services."""

from __future__ import annotations

import pytest

from gateways.models import PaymentAttempt, PaymentMethod, WebhookEvent
from gateways.sandbox.checkout import sandbox_authenticate, sandbox_checkout_complete
from gateways.sandbox.models import SandboxPayment
from gateways.services.checkout import checkout_session_get
from gateways.services.payments import charge_execute, charge_start
from tests.gateways.conftest import SUCCESS_URL, open_checkout, saved_card

pytestmark = pytest.mark.django_db(transaction=True)

VISA_OK, DECLINED, THREE_DS, DECLINES_LATER = (
    "4242424242424242", "4000000000000002", "4000002760003184", "4000000000000341"
)


def payment_id_of(action_url: str) -> str:
    return action_url.rstrip("/").rsplit("/", 1)[1]


def charge(scope, method_id, *, amount=2000, key="renewal-1"):
    attempt = charge_start(scope=scope, payment_method_id=method_id, amount=amount,
                           currency="MYR", idempotency_key=key, source_reference="pinv_1")
    return charge_execute(attempt_id=attempt.id)


def test_a_customer_paying_with_4242_completes_checkout_and_the_card_is_saved(scope, event_log):
    session = open_checkout(scope)
    assert session.status == "open" and session.session_id in session.redirect_url

    completion = sandbox_checkout_complete(session_id=session.session_id,
                                           card_number="4242 4242 4242 4242")

    assert completion.status == "completed"
    assert completion.redirect_url == SUCCESS_URL
    method = PaymentMethod.objects.get(pk=completion.payment_method_id)
    assert (method.customer_reference, method.brand, method.last4, method.is_default) == (
        "pcm_ali", "visa", "4242", True)
    assert checkout_session_get(scope=scope, session_id=session.session_id).status == "complete"
    # The provider announced it by webhook, stored and processed once.
    stored = WebhookEvent.objects.get(event_type="checkout.completed")
    assert stored.verified and stored.processed_at and stored.merchant_id == scope.merchant_id
    [(event, event_scope, _)] = event_log["events"]
    assert event.session_id == session.session_id and event_scope == scope
    assert event.payment_method.token == method.token


def test_completing_a_completed_checkout_again_charges_nothing_more(scope):
    session = open_checkout(scope)
    first = sandbox_checkout_complete(session_id=session.session_id, card_number=VISA_OK)
    again = sandbox_checkout_complete(session_id=session.session_id, card_number=VISA_OK)
    assert again.status == "completed"
    assert again.session.provider_payment_id == first.session.provider_payment_id
    assert SandboxPayment.objects.count() == 1


def test_the_declined_card_fails_checkout_and_a_good_card_then_succeeds(scope):
    session = open_checkout(scope)

    declined = sandbox_checkout_complete(session_id=session.session_id, card_number=DECLINED)

    assert (declined.status, declined.failure_code, declined.failure_message) == (
        "failed", "payment_failed", "Card was declined")
    assert not PaymentMethod.objects.exists()
    assert checkout_session_get(scope=scope, session_id=session.session_id).status == "open"
    retried = sandbox_checkout_complete(session_id=session.session_id, card_number=VISA_OK)
    assert retried.status == "completed"


def test_the_3ds_card_needs_authentication_and_completing_it_succeeds(scope, client):
    session = open_checkout(scope)

    pending = sandbox_checkout_complete(session_id=session.session_id, card_number=THREE_DS)

    assert (pending.status, pending.failure_code) == ("requires_action", "3ds_required")
    assert "/gateways/sandbox/authenticate/" in pending.action_url
    assert not PaymentMethod.objects.exists()
    path = "/gateways/sandbox/authenticate/" + payment_id_of(pending.action_url)
    page = client.get(path).content
    assert b"Complete authentication" in page and b"MYR 20.00" in page  # as people read it

    response = client.post(path, {"decision": "approve"})

    assert response.status_code == 302 and response["Location"] == SUCCESS_URL
    after = checkout_session_get(scope=scope, session_id=session.session_id)
    assert after.status == "complete" and after.payment_method.last4 == "3184"
    assert PaymentMethod.objects.get().last4 == "3184"


def test_failing_3ds_sends_the_customer_back_to_checkout_with_the_reason(scope):
    session = open_checkout(scope)
    pending = sandbox_checkout_complete(session_id=session.session_id, card_number=THREE_DS)

    outcome = sandbox_authenticate(payment_id=payment_id_of(pending.action_url), approve=False)

    assert outcome.status == "failed" and outcome.redirect_url == session.redirect_url
    after = checkout_session_get(scope=scope, session_id=session.session_id)
    assert after.status == "open" and after.failure_message == "3-D Secure authentication failed"


def test_a_number_that_is_no_sandbox_card_is_refused_and_nothing_is_stored(scope):
    session = open_checkout(scope)
    answer = sandbox_checkout_complete(session_id=session.session_id, card_number="5555555555554444")
    assert (answer.status, answer.failure_code) == ("failed", "invalid_card")
    assert not SandboxPayment.objects.exists()


def test_a_saved_4242_card_is_charged_off_session(scope):
    method_id = saved_card(scope, VISA_OK)
    outcome = charge(scope, method_id)
    assert outcome.status == "succeeded" and outcome.provider_payment_id.startswith("sbx_pay_")
    assert outcome.source_reference == "pinv_1"


def test_the_0341_card_saves_fine_but_every_later_charge_is_declined(scope):
    session = open_checkout(scope)
    assert sandbox_checkout_complete(session_id=session.session_id,
                                     card_number=DECLINES_LATER).status == "completed"
    method_id = PaymentMethod.objects.get().id

    first = charge(scope, method_id, key="renewal-1")
    retry = charge(scope, method_id, key="dunning-retry-1")

    for outcome in (first, retry):
        assert (outcome.status, outcome.failure_code, outcome.failure_message) == (
            "failed", "payment_failed", "Card was declined")


def test_an_off_session_3ds_charge_requires_action_and_completing_it_settles_the_attempt(
    scope, event_log, client
):
    method_id = saved_card(scope, THREE_DS)

    outcome = charge(scope, method_id)

    assert (outcome.status, outcome.failure_code) == ("requires_action", "3ds_required")
    assert outcome.action_url
    client.post("/gateways/sandbox/authenticate/" + payment_id_of(outcome.action_url),
                {"decision": "approve"})
    attempt = PaymentAttempt.objects.get(pk=outcome.id)
    assert attempt.status == "succeeded" and attempt.settled_at
    # Billing hears of an outcome it did not wait for, through its handler.
    [(result, via)] = event_log["attempts"]
    assert (result.id, result.status, via) == (outcome.id, "succeeded", "webhook")


def test_a_set_up_session_saves_a_card_without_charging(scope):
    method_id = saved_card(scope, VISA_OK)
    assert PaymentMethod.objects.get(pk=method_id).is_default
    assert not SandboxPayment.objects.filter(amount__gt=0).exists()

"""The sandbox's batch charge (`charge_many`, which gateways.services.charge_batches uses for
the renewal job): every request is answered as `charge` answers it, keys are kept, and the
batch costs a few statements."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from cynco.tenancy import Scope
from gateways.base import ChargeRequest, GatewayError
from gateways.models import PaymentMethod
from gateways.registry import gateway_for
from gateways.sandbox.models import SandboxPayment
from tests.gateways.conftest import saved_card
from tests.threads import race

pytestmark = pytest.mark.django_db(transaction=True)

VISA_OK, DECLINED, THREE_DS = "4242424242424242", "4000000000000341", "4000002760003184"
# (0341 saves fine and declines every later charge)


def cards(scope: Scope) -> dict[str, str]:
    """The sandbox tokens of three saved cards of one customer each."""
    return {card: PaymentMethod.objects.get(pk=saved_card(scope, card, customer=f"pcm_{n}")).token
            for n, card in enumerate((VISA_OK, DECLINED, THREE_DS))}


def request(token: str, key: str, amount: int = 2000) -> ChargeRequest:
    return ChargeRequest(payment_method_token=token, amount=amount, currency="myr",
                         idempotency_key=key, customer_reference="pcm_x")


def mixed_requests(tokens: dict[str, str]) -> list[ChargeRequest]:
    return [
        request(tokens[VISA_OK], "k-ok"),
        request(tokens[DECLINED], "k-declined"),
        request(tokens[THREE_DS], "k-3ds"),
        request("sbx_pm_nobody", "k-no-card"),
        request(tokens[VISA_OK], "k-zero", amount=0),
        request(tokens[VISA_OK], "k-ok"),  # the same request again: the first one's answer
        request(tokens[VISA_OK], "k-ok", amount=999),  # the key, for another charge
        request(tokens[VISA_OK], "k-earlier"),  # charged before the batch
    ]


def answer_of(answer) -> tuple:
    if isinstance(answer, GatewayError):
        return ("raised", type(answer).__name__, answer.code, answer.message)
    return (str(answer.status), answer.failure_code, answer.failure_message,
            bool(answer.action_url), answer.provider_payment_id.startswith("sbx_pay_"))


def one_at_a_time(gateway, requests):
    answers = []
    for each in requests:
        try:
            answers.append(gateway.charge(each))
        except GatewayError as exc:
            answers.append(exc)
    return answers


def test_a_batch_is_answered_as_charging_each_request_would_answer_it(merchant, other_merchant):
    single, batch = Scope(merchant.merchant.id, "test"), Scope(other_merchant.merchant.id, "test")
    answers = {}
    for scope, send in ((single, one_at_a_time), (batch, lambda g, r: g.charge_many(r))):
        gateway, tokens = gateway_for(scope), cards(scope)
        earlier = gateway.charge(request(tokens[VISA_OK], "k-earlier"))
        answers[scope] = send(gateway, mixed_requests(tokens))
        assert answers[scope][-1].provider_payment_id == earlier.provider_payment_id
        assert answers[scope][5].provider_payment_id == answers[scope][0].provider_payment_id
    assert [answer_of(a) for a in answers[batch]] == [answer_of(a) for a in answers[single]]
    assert [answer_of(a)[:3] for a in answers[batch]] == [
        ("succeeded", "", ""), ("failed", "payment_failed", "Card was declined"),
        ("requires_action", "3ds_required", "3-D Secure authentication is required"),
        ("raised", "GatewayNotFound", "payment_method_not_found"),
        ("raised", "GatewayRejected", "invalid_amount"), ("succeeded", "", ""),
        ("raised", "IdempotencyConflict", "idempotency_conflict"), ("succeeded", "", "")]
    for scope in (single, batch):
        keys = SandboxPayment.objects.filter(merchant_id=scope.merchant_id, off_session=True)
        assert sorted(keys.values_list("idempotency_key", flat=True)) == [
            "k-3ds", "k-declined", "k-earlier", "k-ok"]


def test_two_hundred_charges_take_three_statements(merchant):
    scope = Scope(merchant.merchant.id, "test")
    gateway, token = gateway_for(scope), cards(scope)[VISA_OK]
    with CaptureQueriesContext(connection) as statements:
        answers = gateway.charge_many([request(token, f"k-{n}") for n in range(200)])
    assert {str(a.status) for a in answers} == {"succeeded"}
    assert len({a.provider_payment_id for a in answers}) == 200
    selects_and_insert = [q for q in statements.captured_queries
                          if not q["sql"].startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"))]
    assert len(selects_and_insert) == 3


def test_the_same_batch_sent_twice_at_once_charges_each_key_once(merchant):
    scope = Scope(merchant.merchant.id, "test")
    token = cards(scope)[VISA_OK]
    requests = [request(token, f"renewal-{n}") for n in range(50)]
    first, second = race([lambda: gateway_for(scope).charge_many(requests)] * 2)
    assert not isinstance(first, str) and not isinstance(second, str), (first, second)
    assert [a.provider_payment_id for a in first] == [a.provider_payment_id for a in second]
    assert SandboxPayment.objects.filter(merchant_id=scope.merchant_id,
                                         off_session=True).count() == 50


def test_a_key_charged_meanwhile_by_another_call_gets_that_call_s_answer(merchant):
    """The batch's insert meets a key another call has just inserted (not yet committed when
    the batch read the keys): it waits, fails, and the batch goes through `charge` one by one,
    answering that key with the other call's payment."""
    scope = Scope(merchant.merchant.id, "test")
    token = cards(scope)[VISA_OK]
    requests = [request(token, f"renewal-{n}") for n in range(10)]
    inserted, answers = threading.Event(), {}

    def other_call():
        try:
            with transaction.atomic():
                answers["other"] = gateway_for(scope).charge(requests[4])
                inserted.set()
                time.sleep(1)  # the batch reads the keys meanwhile, then waits on this one
        finally:
            connections.close_all()

    holder = threading.Thread(target=other_call)
    holder.start()
    assert inserted.wait(10)
    batch = gateway_for(scope).charge_many(requests)
    holder.join()
    assert batch[4].provider_payment_id == answers["other"].provider_payment_id
    assert {str(a.status) for a in batch} == {"succeeded"}
    assert SandboxPayment.objects.filter(merchant_id=scope.merchant_id,
                                         off_session=True).count() == 10

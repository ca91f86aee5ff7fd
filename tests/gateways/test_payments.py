"""Charge and refund flows: idempotency, refund limits, transactions, crash recovery."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from cynco.tenancy import Scope
from gateways.base import RefundExceedsPayment
from gateways.models import PaymentAttempt
from gateways.outcomes import (
    AttemptInsideTransaction,
    PaymentAttemptKeyReused,
    PaymentMethodNotFound,
)
from gateways.sandbox.models import SandboxPayment, SandboxRefund
from gateways.services.payments import charge_execute, charge_start, refund_execute, refund_start
from gateways.services.recovery import recover_pending_attempts
from tests.factories import make_merchant
from tests.gateways.conftest import saved_card

pytestmark = pytest.mark.django_db(transaction=True)
VISA_OK = "4242424242424242"


def start(scope, method_id, *, key="inv-1-charge", amount=2000):
    return charge_start(scope=scope, payment_method_id=method_id, amount=amount, currency="MYR",
                        idempotency_key=key, source_reference="pinv_1")


def paid_charge(scope, *, amount=2000):
    method_id = saved_card(scope, VISA_OK)
    outcome = charge_execute(attempt_id=start(scope, method_id, amount=amount).id)
    assert outcome.status == "succeeded"
    return outcome


def test_charging_twice_with_the_same_key_charges_once_and_answers_the_first_result(scope):
    method_id = saved_card(scope, VISA_OK)

    first = charge_execute(attempt_id=start(scope, method_id).id)
    again_start = start(scope, method_id)
    again = charge_execute(attempt_id=again_start.id)

    assert again_start.id == first.id
    assert again == first
    assert PaymentAttempt.objects.count() == 1
    assert SandboxPayment.objects.filter(off_session=True).count() == 1


def test_the_same_key_for_a_different_amount_is_refused(scope):
    method_id = saved_card(scope, VISA_OK)
    start(scope, method_id, amount=2000)
    with pytest.raises(PaymentAttemptKeyReused):
        start(scope, method_id, amount=5000)


def test_executing_a_settled_attempt_again_calls_no_gateway(scope):
    method_id = saved_card(scope, VISA_OK)
    attempt = start(scope, method_id)
    charge_execute(attempt_id=attempt.id)
    charge_execute(attempt_id=attempt.id)
    assert PaymentAttempt.objects.get(pk=attempt.id).attempts_count == 1


def test_charge_start_inside_a_transaction_is_refused_and_writes_nothing(scope):
    method_id = saved_card(scope, VISA_OK)
    with pytest.raises(AttemptInsideTransaction), transaction.atomic():
        start(scope, method_id)
    assert not PaymentAttempt.objects.exists()


def test_charge_execute_and_refund_start_inside_a_transaction_are_refused(scope):
    attempt = start(scope, saved_card(scope, VISA_OK))
    with pytest.raises(AttemptInsideTransaction), transaction.atomic():
        charge_execute(attempt_id=attempt.id)
    with pytest.raises(AttemptInsideTransaction), transaction.atomic():
        refund_start(scope=scope, charge_id=attempt.id, amount=100, idempotency_key="r")
    assert PaymentAttempt.objects.get(pk=attempt.id).status == "pending"


def test_another_merchants_payment_method_cannot_be_charged(scope):
    other = Scope(make_merchant().merchant.id, "test")
    method_id = saved_card(other, VISA_OK)
    with pytest.raises(PaymentMethodNotFound):
        start(scope, method_id)


def test_a_test_mode_card_cannot_be_charged_from_live(scope, live_scope):
    method_id = saved_card(scope, VISA_OK)
    with pytest.raises(PaymentMethodNotFound):
        start(live_scope, method_id)


def test_a_partial_then_the_rest_refunded_and_nothing_more(scope):
    paid = paid_charge(scope)

    part = refund_execute(attempt_id=refund_start(
        scope=scope, charge_id=paid.id, amount=500, idempotency_key="refund-1").id)
    rest = refund_execute(attempt_id=refund_start(
        scope=scope, charge_id=paid.id, amount=1500, idempotency_key="refund-2").id)

    assert (part.status, rest.status) == ("succeeded", "succeeded")
    assert part.provider_refund_id.startswith("sbx_re_")
    with pytest.raises(RefundExceedsPayment):
        refund_start(scope=scope, charge_id=paid.id, amount=1, idempotency_key="refund-3")
    assert SandboxPayment.objects.get(pk=paid.provider_payment_id).amount_refunded == 2000


def test_a_refund_over_the_paid_amount_is_refused_before_any_gateway_call(scope):
    paid = paid_charge(scope)
    with pytest.raises(RefundExceedsPayment):
        refund_start(scope=scope, charge_id=paid.id, amount=2001, idempotency_key="too-much")
    assert not PaymentAttempt.objects.filter(kind="refund").exists()


def test_refunding_twice_with_the_same_key_refunds_once(scope):
    paid = paid_charge(scope)
    first = refund_execute(attempt_id=refund_start(
        scope=scope, charge_id=paid.id, amount=2000, idempotency_key="cancel-refund").id)
    again = refund_execute(attempt_id=refund_start(
        scope=scope, charge_id=paid.id, amount=2000, idempotency_key="cancel-refund").id)
    assert again == first
    assert SandboxRefund.objects.count() == 1


def test_a_crash_between_start_and_execute_is_settled_by_the_sweeper(scope, event_log):
    method_id = saved_card(scope, VISA_OK)
    attempt = start(scope, method_id)  # ... and the process dies before charge_execute

    assert recover_pending_attempts(older_than=timedelta(minutes=2)).checked == 0  # too recent
    report = recover_pending_attempts(older_than=timedelta(0))

    assert (report.checked, report.settled) == (1, 1)
    settled = PaymentAttempt.objects.get(pk=attempt.id)
    assert settled.status == "succeeded" and settled.provider_payment_id
    assert [(r.id, r.status, via) for r, via in event_log["attempts"]] == [
        (attempt.id, "succeeded", "recovery")]
    # A late charge_execute from the revived process charges nothing more.
    assert charge_execute(attempt_id=attempt.id).status == "succeeded"
    assert SandboxPayment.objects.filter(off_session=True).count() == 1


def test_a_crash_after_the_gateway_charged_is_settled_without_charging_again(scope):
    method_id = saved_card(scope, VISA_OK)
    attempt = start(scope, method_id)
    from gateways import registry
    from gateways.base import ChargeRequest

    # The gateway was called and charged, but the outcome never reached the database.
    registry.gateway_for(scope).charge(ChargeRequest(
        payment_method_token=PaymentAttempt.objects.get(pk=attempt.id).payment_method.token,
        amount=2000, currency="MYR", idempotency_key=attempt.idempotency_key))

    recover_pending_attempts(older_than=timedelta(0))

    assert PaymentAttempt.objects.get(pk=attempt.id).status == "succeeded"
    assert SandboxPayment.objects.filter(off_session=True).count() == 1


def test_an_attempt_that_never_reached_the_gateway_in_time_is_canceled_not_charged(
    scope, settings
):
    settings.GATEWAY_PENDING_MAX_AGE_HOURS = 1
    attempt = start(scope, saved_card(scope, VISA_OK))
    PaymentAttempt.objects.filter(pk=attempt.id).update(
        created_at=PaymentAttempt.objects.get(pk=attempt.id).created_at - timedelta(hours=2))

    recover_pending_attempts(older_than=timedelta(0))

    settled = PaymentAttempt.objects.get(pk=attempt.id)
    assert (settled.status, settled.failure_code) == ("canceled", "not_sent")
    assert not SandboxPayment.objects.filter(off_session=True).exists()


def test_a_pending_refund_left_by_a_crash_is_sent_by_the_sweeper(scope):
    paid = paid_charge(scope)
    refund = refund_start(scope=scope, charge_id=paid.id, amount=700, idempotency_key="r-crash")

    recover_pending_attempts(older_than=timedelta(0))

    assert PaymentAttempt.objects.get(pk=refund.id).status == "succeeded"
    assert SandboxRefund.objects.get().amount == 700

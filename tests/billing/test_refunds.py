"""Canceling now refunds the unused part of the period through the gateway, and the books,
events and audit say so; a refund the gateway refuses stays visible as failed."""

from datetime import timedelta

import pytest

from django.db import connection, transaction

from billing.models import Customer, Product, Refund
from billing.services.audit import SYSTEM
from billing.services.subscription_updates import UpdateRequest, subscription_update
from cynco import clock
from gateways.services.payments import refund_start
from billing.services.refunds import refunds_resume
from cynco.tenancy import Scope
from gateways import registry
from gateways.base import RefundRequest
from gateways.models import PaymentAttempt
from gateways.sandbox.models import SandboxRefund
from gateways.services.recovery import recover_pending_attempts
from tests.billing.money import audited, balances, entries, event_data, event_types
from tests.billing.subscribing import (
    CANCEL, DAY, UPDATE, advance, current, customer, main_catalog, subscribe_paid,
)
from tests.factories import data_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def scope(merchant) -> Scope:
    return Scope(merchant.merchant.id, "test")


@pytest.fixture
def shop(api):
    main_catalog(api)
    customer(api)


def cancel_now(api, **body):
    return data_of(api.post(UPDATE, {"customer": "user_1", "product": "pro",
                                     "cancelAction": "cancel_immediately", **body}))


def test_a_customer_on_pro_who_cancels_now_gets_the_unused_part_back(api, shop):
    subscribe_paid(api, "pro")  # 2000 paid on the hosted checkout
    assert "payment.succeeded" in event_types()
    advance(api, 10 * DAY)

    result = cancel_now(api)

    refund = Refund.objects.get()
    amount = result["refundAmount"]
    assert 1300 <= amount <= 1400 and (refund.status, refund.amount) == ("succeeded", amount)
    attempt = PaymentAttempt.objects.get(kind="refund")
    assert (attempt.status, attempt.amount, attempt.source_reference) == (
        "succeeded", amount, refund.id)
    assert SandboxRefund.objects.get().amount == amount
    assert entries("refund") == [[("DR", "4910", amount), ("CR", "1100-sandbox", amount)]]
    assert balances(api) == {"1100-sandbox": 2000 - amount, "4001": -2000, "4910": amount}
    (refunded,) = event_data("payment.refunded")
    assert (refunded["amount"], refunded["id"], refunded["invoiceId"]) == (
        amount, refund.id, refund.invoice_id)
    assert [a.resource_id for a in audited("payment.refunded")] == [refund.id]
    assert "pro" not in current(api)


def test_cancel_with_immediate_true_refunds_a_saved_card_upgrade(api, shop):
    subscribe_paid(api, "pro")
    result = data_of(api.post("/api/v1/pay/subscribe",
                              {"customer": "user_1", "product": "enterprise"}))
    assert result["action"] == "activated"  # the saved card paid the upgrade
    advance(api, 15 * DAY)

    assert data_of(api.post(CANCEL, {"customer": "user_1", "immediate": True}))["canceled"]

    refund = Refund.objects.get()
    charge = PaymentAttempt.objects.get(pk=refund.charge_attempt_id)
    assert charge.idempotency_key.startswith("subscribe:") or charge.source_reference.startswith(
        "pchk_")
    assert refund.status == "succeeded" and 0 < refund.amount < charge.amount
    assert entries("refund") == [[("DR", "4910", refund.amount),
                                  ("CR", "1100-sandbox", refund.amount)]]
    books = balances(api)
    assert books["4910"] == refund.amount and "1200" not in books


def test_proration_none_refunds_nothing(api, shop):
    subscribe_paid(api, "pro")
    assert cancel_now(api, prorationBehavior="none")["refundAmount"] == 0
    assert not Refund.objects.exists() and not entries("refund")


def test_a_refund_the_gateway_refuses_is_left_failed_with_its_reason(api, shop, scope):
    subscribe_paid(api, "pro")
    charge = PaymentAttempt.objects.get(kind="charge")
    # The merchant already refunded the whole payment in the gateway's dashboard.
    registry.gateway_for(scope).refund(RefundRequest(
        provider_payment_id=charge.provider_payment_id, amount=2000, idempotency_key="desk"))

    cancel_now(api)

    refund = Refund.objects.get()
    assert refund.status == "failed" and refund.failure_message
    assert PaymentAttempt.objects.get(kind="refund").status == "failed"
    assert not entries("refund") and "payment.refunded" not in event_types()
    assert [a.resource_id for a in audited("refund.failed")] == [refund.id]
    assert current(api) == {}  # the cancel itself stands


def crash_while_canceling(scope) -> Refund:
    """Cancel now through the service, the process dying as the transaction commits: the
    cancel and its pending refund are committed, nothing was sent to the gateway."""
    with transaction.atomic():
        subscription_update(
            scope=scope, customer=Customer.objects.get(external_id="user_1"),
            product=Product.objects.get(slug="pro"),
            request=UpdateRequest(cancel_action="cancel_immediately"),
            at=clock.now(scope), actor=SYSTEM,
        )
        connection.run_on_commit.clear()  # the refund_send queued on commit never runs
    refund = Refund.objects.get()
    assert (refund.status, refund.attempt_id) == ("pending", "")
    assert not PaymentAttempt.objects.filter(kind="refund").exists()
    return refund


def test_a_refund_a_crash_left_unsent_is_sent_by_the_resume_job(api, shop, scope):
    subscribe_paid(api, "pro")
    advance(api, 5 * DAY)
    refund = crash_while_canceling(scope)

    assert refunds_resume(older_than=timedelta(minutes=5)) == 0  # too recent to be a crash
    assert refunds_resume(older_than=timedelta(0)) == 1

    assert Refund.objects.get().status == "succeeded"
    assert SandboxRefund.objects.get().amount == refund.amount
    assert entries("refund") == [[("DR", "4910", refund.amount),
                                  ("CR", "1100-sandbox", refund.amount)]]
    assert refunds_resume(older_than=timedelta(0)) == 0


def test_a_refund_attempt_left_pending_is_settled_by_the_gateway_sweeper(api, shop, scope):
    subscribe_paid(api, "pro")
    advance(api, 5 * DAY)
    refund = crash_while_canceling(scope)
    # The revived sender got as far as refund_start, then died before the gateway call.
    refund_start(scope=scope, charge_id=refund.charge_attempt_id, amount=refund.amount,
                 idempotency_key=f"refund:{refund.id}", source_reference=refund.id)

    recover_pending_attempts(older_than=timedelta(0))

    assert Refund.objects.get().status == "succeeded"
    assert SandboxRefund.objects.get().amount == refund.amount
    assert len(event_data("payment.refunded")) == 1
    assert balances(api)["4910"] == refund.amount

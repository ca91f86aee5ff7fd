"""The email outbox: one row per (cause, kind), and two workers never send one message twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from billing.models import Customer, EmailMessage
from billing.services.audit import SYSTEM
from billing.services.billing_emails import emails_queue_for_events
from billing.services.email_delivery import emails_send_due
from billing.services.email_settings import email_settings_update
from cynco.clock import wall_now
from cynco.tenancy import Scope
from tests.billing.smtp_server import mail  # noqa: F401 - the SMTP server fixture
from tests.threads import race

pytestmark = pytest.mark.django_db(transaction=True)

MESSAGES = 30
ROUNDS = 5


def live(merchant) -> Scope:
    return Scope(merchant.merchant.id, "live")


def customers(scope: Scope, count: int) -> list[Customer]:
    return [Customer.objects.create(merchant_id=scope.merchant_id, environment=scope.environment,
                                    external_id=f"user_{n}", email=f"user{n}@example.com")
            for n in range(count)]


def refund_event(customer: Customer, n: int) -> tuple[str, str, dict]:
    return (f"evt_test_{n}", "payment.refunded",
            {"customerId": customer.id, "amount": 500, "currency": "MYR", "reason": ""})


def test_the_same_event_queued_twice_gives_one_email(merchant):
    scope = live(merchant)
    [customer] = customers(scope, 1)
    for _ in range(2):
        with transaction.atomic():
            emails_queue_for_events(scope=scope, events=[refund_event(customer, 1)])
    assert EmailMessage.objects.filter(kind="refund_issued").count() == 1


def test_a_rolled_back_cause_queues_nothing(merchant):
    scope = live(merchant)
    [customer] = customers(scope, 1)
    with pytest.raises(RuntimeError), transaction.atomic():
        emails_queue_for_events(scope=scope, events=[refund_event(customer, 1)])
        raise RuntimeError("the business change failed")
    assert not EmailMessage.objects.exists()


def test_two_workers_sending_at_once_send_each_email_exactly_once(merchant, mail):  # noqa: F811
    scope = live(merchant)
    people = customers(scope, MESSAGES)
    for round in range(ROUNDS):
        mail.down = True  # the first delivery (on commit) fails, leaving every row pending
        with transaction.atomic():
            emails_queue_for_events(scope=scope, events=[
                (f"evt_race_{round}_{n}", *refund_event(customer, n)[1:])
                for n, customer in enumerate(people)])
        assert EmailMessage.objects.filter(status="pending").count() == MESSAGES
        mail.down = False
        later = wall_now() + timedelta(hours=1)
        attempts = race([lambda: emails_send_due(now=later, batch_size=4)] * 2)
        assert sum(attempts) == MESSAGES, attempts
        assert EmailMessage.objects.filter(status="pending").count() == 0
    ids = [received.message["X-Cynco-Email-Id"] for received in mail.received]
    assert len(ids) == ROUNDS * MESSAGES and len(set(ids)) == ROUNDS * MESSAGES
    assert EmailMessage.objects.filter(status="sent").count() == ROUNDS * MESSAGES


def test_a_disabled_kind_is_not_queued_and_others_are(merchant):
    scope = live(merchant)
    [customer] = customers(scope, 1)
    email_settings_update(scope=scope, actor=SYSTEM, changes={"kinds": {"refund_issued": False}})
    with transaction.atomic():
        emails_queue_for_events(scope=scope, events=[
            refund_event(customer, 1),
            ("evt_test_2", "subscription.canceled", {"customerId": customer.id, "id": "-"})])
    assert list(EmailMessage.objects.values_list("kind", flat=True)) == ["subscription_canceled"]


def test_a_customer_without_an_email_address_gets_nothing(merchant):
    scope = live(merchant)
    customer = Customer.objects.create(merchant_id=scope.merchant_id, environment="live",
                                       external_id="anon")
    with transaction.atomic():
        emails_queue_for_events(scope=scope, events=[refund_event(customer, 1)])
    assert not EmailMessage.objects.exists()


def test_manage_check_says_when_emails_are_only_printed_or_the_sender_is_wrong(settings):
    from billing.email_checks import check_email_settings

    settings.DEBUG = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    settings.EMAIL_FROM_ADDRESS = "billing"
    assert [p.id for p in check_email_settings()] == ["billing.E001", "billing.I001"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_FROM_ADDRESS = "billing@example.com"
    assert check_email_settings() == []

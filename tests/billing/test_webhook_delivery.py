"""Delivering events: a real local endpoint receives signed bodies; failures are retried.

Retries are driven by calling the due-deliveries service at later times (`now=`), never by
sleeping. The receiver checks every signature over the exact bytes it was sent.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import override_settings
from django.db import transaction

from billing.models import OutgoingEvent, WebhookAttempt, WebhookDelivery
from billing.services.audit import Actor
from billing.services.webhook_deliveries import (
    webhook_deliveries_resend,
    webhook_deliveries_run_due,
)
from billing.services.webhooks import emit_event, webhook_endpoint_create, webhook_endpoint_delete
from billing.webhook_signatures import verify
from cynco.clock import wall_now
from cynco.tenancy import Scope

pytestmark = pytest.mark.django_db

ACTOR = Actor.api("pak_test")
ACTIVATED = {"subscriptionId": "psub_abc", "customerId": "pcm_1", "productSlug": "pro"}


@pytest.fixture
def scope(merchant):
    return Scope(merchant.merchant.id, "test")


def endpoint_for(scope, receiver, events=None):
    return webhook_endpoint_create(scope=scope, url=receiver.url, events=events, actor=ACTOR)


def client_verifies(raw_body: bytes, signature: str | None, secret: str) -> dict:
    """What @cynco/billing's verifyWebhook does (docs/client-wire-format.md §2.4), step by step:
    the Buffer is read as UTF-8 text, the HMAC-SHA256 of that text keyed with the secret's UTF-8
    bytes is compared with the hex-decoded header in constant time, then the JSON must carry a
    truthy id and type."""
    import hashlib
    import hmac

    if not signature:
        raise ValueError("Missing X-Cynco-Signature header")
    text = raw_body.decode("utf-8")
    expected = hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).digest()
    try:
        given = bytes.fromhex(signature)
    except ValueError:
        raise ValueError("Invalid webhook signature")
    if len(given) != len(expected) or not hmac.compare_digest(given, expected):
        raise ValueError("Invalid webhook signature")
    event = json.loads(text)
    if not event.get("type") or not event.get("id"):
        raise ValueError("Invalid webhook payload — missing type or id")
    return event


def test_an_event_reaches_the_endpoint_signed_over_the_exact_bytes_received(scope, receiver):
    endpoint = endpoint_for(scope, receiver)
    event = emit_event(scope=scope, type="subscription.activated", data=ACTIVATED)

    assert webhook_deliveries_run_due() == 1

    [got] = receiver.received
    assert got.path == "/hooks/cynco"
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["X-Cynco-Event-Id"] == event.id
    signature = got.headers["X-Cynco-Signature"]
    assert signature == signature.lower() and len(signature) == 64
    assert verify(got.body, signature, endpoint.secret)
    assert not verify(got.body, signature, "whsec_someone_else")
    assert got.body == event.payload.encode()

    parsed = client_verifies(got.body, signature, endpoint.secret)
    assert set(parsed) == {"id", "type", "created", "data"}
    assert parsed["id"] == event.id and event.id.startswith("evt_")
    assert parsed["type"] == "subscription.activated"
    assert parsed["data"] == ACTIVATED
    assert parsed["created"].endswith("Z")
    with pytest.raises(ValueError, match="Invalid webhook signature"):
        client_verifies(got.body, signature, "whsec_someone_else")

    delivery = WebhookDelivery.objects.get(event=event)
    assert delivery.status == "delivered"
    [attempt] = delivery.attempts.all()
    assert (attempt.number, attempt.outcome, attempt.response_code) == (1, "succeeded", 200)
    assert attempt.response_body == '{"ok":true}'
    assert attempt.latency_ms >= 0


def test_non_ascii_data_is_sent_as_json_escapes_and_still_verifies(scope, receiver):
    endpoint = endpoint_for(scope, receiver)
    emit_event(scope=scope, type="invoice.paid", data={"customerName": "Kedai Kopi 咖啡 Ünal"})
    webhook_deliveries_run_due()
    [got] = receiver.received
    assert got.body.isascii()
    parsed = client_verifies(got.body, got.headers["X-Cynco-Signature"], endpoint.secret)
    assert parsed["data"]["customerName"] == "Kedai Kopi 咖啡 Ünal"


def test_a_receiver_that_fails_twice_gets_the_event_on_the_third_attempt(scope, receiver):
    endpoint = endpoint_for(scope, receiver)
    receiver.statuses = [500, 503]
    event = emit_event(scope=scope, type="payment.succeeded", data={"amount": 2000})
    delivery = WebhookDelivery.objects.get(event=event)
    start = delivery.next_attempt_at

    assert webhook_deliveries_run_due(now=start) == 1
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    first_wait = delivery.next_attempt_at - start
    assert timedelta(seconds=45) <= first_wait <= timedelta(seconds=75)

    # Not due yet: nothing is sent a second early.
    assert webhook_deliveries_run_due(now=delivery.next_attempt_at - timedelta(seconds=1)) == 0
    assert webhook_deliveries_run_due(now=delivery.next_attempt_at) == 1
    delivery.refresh_from_db()
    second_wait = delivery.next_attempt_at - (start + first_wait)
    assert second_wait > first_wait

    assert webhook_deliveries_run_due(now=delivery.next_attempt_at) == 1
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert delivery.next_attempt_at is None
    attempts = list(delivery.attempts.values_list("number", "outcome", "response_code"))
    assert attempts == [(1, "failed", 500), (2, "failed", 503), (3, "succeeded", 200)]
    assert [a.error for a in delivery.attempts.all()] == ["HTTP 500", "HTTP 503", ""]

    # The same event, byte for byte, each time, so the receiver can dedupe by id.
    assert len({item.body for item in receiver.received}) == 1
    assert all(verify(item.body, item.headers["X-Cynco-Signature"], endpoint.secret)
               for item in receiver.received)
    assert webhook_deliveries_run_due(now=start + timedelta(days=3)) == 0


def test_a_receiver_that_never_answers_2xx_is_retried_for_a_day_then_marked_failed(scope, receiver):
    endpoint_for(scope, receiver)
    receiver.default_status = 500
    event = emit_event(scope=scope, type="invoice.created", data={"invoiceId": "pinv_1"})
    delivery = WebhookDelivery.objects.get(event=event)
    start = delivery.retry_from
    for _ in range(60):
        if delivery.status != "pending":
            break
        webhook_deliveries_run_due(now=delivery.next_attempt_at)
        delivery.refresh_from_db()
    assert delivery.status == "failed"
    times = list(delivery.attempts.values_list("attempted_at", flat=True))
    assert times[-1] - start >= timedelta(hours=24)
    assert times[-2] - start < timedelta(hours=24)
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert max(gaps) <= timedelta(hours=2.4)
    assert 15 <= len(times) <= 30
    assert webhook_deliveries_run_due(now=start + timedelta(days=5)) == 0


def test_timeouts_redirects_and_unreachable_hosts_are_failed_attempts(scope, receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    slow = endpoint_for(scope, receiver)
    emit_event(scope=scope, type="subscription.created", data={})
    receiver.delay = 1.0
    webhook_deliveries_run_due()
    [attempt] = WebhookAttempt.objects.filter(delivery__endpoint=slow)
    assert attempt.outcome == "failed" and attempt.response_code is None
    assert "Timeout" in attempt.error
    webhook_endpoint_delete(scope=scope, endpoint_id=slow.id, actor=ACTOR)

    receiver.delay = 0
    receiver.statuses = [302]
    receiver.extra_headers = {"Location": "https://elsewhere.example/"}
    redirected = endpoint_for(scope, receiver)
    emit_event(scope=scope, type="subscription.created", data={})
    webhook_deliveries_run_due()
    [attempt] = WebhookAttempt.objects.filter(delivery__endpoint=redirected)
    assert (attempt.outcome, attempt.response_code, attempt.error) == ("failed", 302, "HTTP 302")
    assert len(receiver.received) == 2  # the redirect was not followed
    webhook_endpoint_delete(scope=scope, endpoint_id=redirected.id, actor=ACTOR)

    closed = webhook_endpoint_create(
        scope=scope, url="http://127.0.0.1:9/nothing-listens", events=None, actor=ACTOR
    )
    emit_event(scope=scope, type="subscription.created", data={})
    webhook_deliveries_run_due()
    [attempt] = WebhookAttempt.objects.filter(delivery__endpoint=closed)
    assert attempt.outcome == "failed" and "ConnectionError" in attempt.error


def test_a_long_error_answer_is_kept_truncated(scope, receiver):
    endpoint_for(scope, receiver)
    receiver.statuses = [500]
    receiver.answer = b"x" * 50_000
    emit_event(scope=scope, type="subscription.created", data={})
    webhook_deliveries_run_due()
    attempt = WebhookAttempt.objects.get()
    assert attempt.response_body == "x" * 2000


def test_endpoints_receive_only_the_types_they_subscribed_to(scope, receiver):
    invoices_only = endpoint_for(scope, receiver, events=["invoice.paid"])
    everything = endpoint_for(scope, receiver)
    emit_event(scope=scope, type="subscription.canceled", data={})
    emit_event(scope=scope, type="invoice.paid", data={})
    pairs = set(WebhookDelivery.objects.values_list("endpoint_id", "event__type"))
    assert pairs == {
        (everything.id, "subscription.canceled"),
        (everything.id, "invoice.paid"),
        (invoices_only.id, "invoice.paid"),
    }


@override_settings(WEBHOOK_PRIVATE_ADDRESSES="all")  # the live endpoint uses the local receiver
def test_events_go_only_to_the_same_merchant_and_environment(merchant, other_merchant, receiver):
    test_scope = Scope(merchant.merchant.id, "test")
    live_scope = Scope(merchant.merchant.id, "live")
    other_scope = Scope(other_merchant.merchant.id, "test")
    mine = endpoint_for(test_scope, receiver)
    endpoint_for(live_scope, receiver)
    endpoint_for(other_scope, receiver)
    event = emit_event(scope=test_scope, type="payment.failed", data={})
    assert list(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == [mine.id]
    assert WebhookDelivery.objects.get().environment == "test"
    assert event.environment == "test" and event.merchant_id == merchant.merchant.id


def test_a_deleted_endpoint_gets_nothing_more(scope, receiver):
    endpoint = endpoint_for(scope, receiver)
    emit_event(scope=scope, type="invoice.created", data={})
    webhook_endpoint_delete(scope=scope, endpoint_id=endpoint.id, actor=ACTOR)
    emit_event(scope=scope, type="invoice.created", data={})
    assert webhook_deliveries_run_due() == 0
    assert receiver.received == []
    assert list(WebhookDelivery.objects.values_list("status", flat=True)) == ["canceled"]
    assert OutgoingEvent.objects.count() == 2


def test_unknown_event_types_are_a_programming_error(scope):
    with pytest.raises(ValueError):
        emit_event(scope=scope, type="subscription.exploded", data={})
    assert not OutgoingEvent.objects.exists()


def test_resending_a_failed_delivery_tries_again_with_a_fresh_window(scope, receiver):
    endpoint_for(scope, receiver)
    receiver.default_status = 500
    emit_event(scope=scope, type="payment.refunded", data={"amount": 500})
    delivery = WebhookDelivery.objects.get()
    later = wall_now() + timedelta(days=2)
    webhook_deliveries_run_due(now=delivery.next_attempt_at)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", next_attempt_at=None)

    receiver.default_status = 200
    assert webhook_deliveries_resend(delivery_ids=[delivery.pk], now=later) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.next_attempt_at, delivery.retry_from) == (
        "pending", later, later)
    assert webhook_deliveries_run_due(now=later) == 1
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert list(delivery.attempts.values_list("number", "outcome")) == [
        (1, "failed"), (2, "succeeded")]


def test_an_event_with_its_endpoint_is_delivered_right_after_commit(
    scope, receiver, django_capture_on_commit_callbacks
):
    endpoint_for(scope, receiver)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            emit_event(scope=scope, type="subscription.renewed", data={})
            assert receiver.received == []  # nothing leaves before commit
    assert len(callbacks) == 1
    assert len(receiver.received) == 1
    assert WebhookDelivery.objects.get().status == "delivered"


def test_an_event_nobody_listens_to_is_kept_but_queues_nothing(
    scope, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        emit_event(scope=scope, type="entitlement.exhausted", data={"feature": "api_calls"})
    assert callbacks == []
    assert OutgoingEvent.objects.count() == 1 and not WebhookDelivery.objects.exists()


def test_the_minutely_beat_job_delivers_what_is_due(scope, receiver):
    from billing import tasks
    from cynco.celery import app

    entry = app.conf.beat_schedule["deliver-due-webhooks"]
    assert entry["task"] == tasks.deliver_due_webhooks.name
    assert entry["schedule"].minute == set(range(60))  # crontab(): every minute

    endpoint_for(scope, receiver)
    emit_event(scope=scope, type="subscription.expired", data={})
    assert tasks.deliver_due_webhooks() == 1
    assert len(receiver.received) == 1

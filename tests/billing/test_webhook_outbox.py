"""The outbox against real commits: a rolled-back change sends nothing, a committed one is
delivered once, and several workers share due deliveries without sending any twice."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import DatabaseError, connections, transaction

from billing.models import AuditEvent, OutgoingEvent, WebhookDelivery
from billing.services.audit import Actor, audit_record
from billing.services.webhook_deliveries import webhook_deliveries_run_due
from billing.services.webhooks import emit_event, webhook_endpoint_create
from billing.webhook_signatures import verify
from cynco.clock import wall_now
from cynco.tenancy import Scope
from tests.factories import make_merchant

pytestmark = pytest.mark.django_db(transaction=True)

ACTOR = Actor.api("pak_test")


class BusinessFailure(Exception):
    pass


@pytest.fixture
def scope():
    return Scope(make_merchant().merchant.id, "test")


def test_a_rolled_back_change_emits_nothing_and_a_committed_one_is_delivered_once(
    scope, receiver
):
    endpoint = webhook_endpoint_create(scope=scope, url=receiver.url, events=None, actor=ACTOR)

    with pytest.raises(BusinessFailure):
        with transaction.atomic():
            audit_record(scope=scope, event="subscription.canceled", actor=ACTOR,
                         subscription_id="psub_1")
            emit_event(scope=scope, type="subscription.canceled", data={"id": "psub_1"})
            raise BusinessFailure("the cancel failed after emitting")
    assert not OutgoingEvent.objects.exists()
    assert not WebhookDelivery.objects.exists()
    assert not AuditEvent.objects.filter(event="subscription.canceled").exists()
    assert webhook_deliveries_run_due(now=wall_now() + timedelta(days=1)) == 0
    assert receiver.received == []

    with transaction.atomic():
        audit_record(scope=scope, event="subscription.canceled", actor=ACTOR,
                     subscription_id="psub_2")
        event = emit_event(scope=scope, type="subscription.canceled", data={"id": "psub_2"})
        assert receiver.received == []
    # On commit the queued task ran (Celery runs tasks inline in tests) and delivered it.
    [got] = receiver.received
    assert got.headers["X-Cynco-Event-Id"] == event.id
    assert verify(got.body, got.headers["X-Cynco-Signature"], endpoint.secret)
    assert AuditEvent.objects.filter(event="subscription.canceled").count() == 1
    assert WebhookDelivery.objects.get().status == "delivered"
    assert webhook_deliveries_run_due(now=wall_now() + timedelta(days=1)) == 0
    assert len(receiver.received) == 1


def test_four_workers_share_the_due_deliveries_and_none_is_sent_twice(scope, receiver):
    webhook_endpoint_create(scope=scope, url=receiver.url, events=None, actor=ACTOR)
    second = webhook_endpoint_create(scope=scope, url=receiver.url + "/b", events=None,
                                     actor=ACTOR)
    receiver.default_status = 503  # the first tries, right after each commit, all fail
    events = [emit_event(scope=scope, type="invoice.paid", data={"n": n}) for n in range(30)]
    assert WebhookDelivery.objects.filter(status="pending", attempt_count=1).count() == 60
    receiver.received.clear()
    receiver.default_status = 200
    receiver.delay = 0.01

    later = wall_now() + timedelta(hours=3)
    results, errors = [], []
    barrier = threading.Barrier(4)

    def worker():
        try:
            barrier.wait()
            results.append(webhook_deliveries_run_due(now=later, batch_size=5))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(results) == 60
    assert len([r for r in results if r]) >= 2  # the work was shared, not done by one worker
    per_target = {}
    for item in receiver.received:
        key = (item.path, item.headers["X-Cynco-Event-Id"])
        per_target[key] = per_target.get(key, 0) + 1
    assert len(per_target) == 60 and set(per_target.values()) == {1}
    assert {event_id for _, event_id in per_target} == {event.id for event in events}
    assert WebhookDelivery.objects.filter(status="delivered", attempt_count=2).count() == 60
    assert WebhookDelivery.objects.filter(endpoint=second).count() == 30


def test_no_database_lock_is_held_while_the_endpoint_is_being_called(scope, receiver):
    webhook_endpoint_create(scope=scope, url=receiver.url, events=None, actor=ACTOR)
    receiver.default_status = 500
    emit_event(scope=scope, type="payment.failed", data={})  # first try fails on commit
    delivery = WebhookDelivery.objects.get()
    seen = []

    def look_at_the_row(_request):
        # Runs in the receiver's thread, on its own connection, while the POST is in flight.
        try:
            with transaction.atomic():
                row = WebhookDelivery.objects.select_for_update(nowait=True).get(pk=delivery.pk)
                seen.append(("unlocked", row.next_attempt_at > wall_now()))
        except DatabaseError as exc:
            seen.append(("locked", str(exc)))
        finally:
            connections.close_all()

    receiver.during_request = look_at_the_row
    receiver.default_status = 200
    delivery.refresh_from_db()
    assert webhook_deliveries_run_due(now=delivery.next_attempt_at) == 1
    # Free to lock, and already leased into the future so no other worker would pick it.
    assert seen == [("unlocked", True)]
    delivery.refresh_from_db()
    assert delivery.status == "delivered"

"""The operator console: endpoints, events, deliveries with their attempts, resend, audit."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from billing.models import AuditEvent, WebhookDelivery, WebhookEndpoint
from billing.services.audit import SYSTEM
from billing.services.webhook_deliveries import webhook_deliveries_run_due
from billing.services.webhooks import emit_event, webhook_endpoint_create
from cynco.models import MerchantStaff
from cynco.tenancy import Scope

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-secret-123")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def failed_once(merchant, receiver):
    """An endpoint whose receiver answered 500 to its one event."""
    scope = Scope(merchant.merchant.id, "test")
    endpoint = webhook_endpoint_create(scope=scope, url=receiver.url, events=None, actor=SYSTEM)
    receiver.statuses = [500]
    emit_event(scope=scope, type="invoice.paid", data={"invoiceId": "pinv_1"})
    webhook_deliveries_run_due()
    return endpoint, WebhookDelivery.objects.get()


def test_every_webhook_and_audit_page_opens(operator, failed_once):
    endpoint, delivery = failed_once
    pages = [
        "/admin/billing/webhookendpoint/",
        f"/admin/billing/webhookendpoint/{endpoint.pk}/change/",
        "/admin/billing/webhookendpoint/add/",
        "/admin/billing/outgoingevent/",
        f"/admin/billing/outgoingevent/{delivery.event_id}/change/",
        "/admin/billing/webhookdelivery/",
        "/admin/billing/auditevent/",
        f"/admin/billing/auditevent/{AuditEvent.objects.first().pk}/change/",
    ]
    for page in pages:
        assert operator.get(page).status_code == 200, page
    detail = operator.get(f"/admin/billing/webhookdelivery/{delivery.pk}/change/")
    assert detail.status_code == 200
    assert b"HTTP 500" in detail.content  # the attempt is shown inline
    assert endpoint.secret.encode() not in detail.content


def test_resend_delivers_a_failed_delivery_again(operator, failed_once, receiver):
    _, delivery = failed_once
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", next_attempt_at=None)
    response = operator.post(
        "/admin/billing/webhookdelivery/",
        {"action": "resend", "_selected_action": [delivery.pk]},
    )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    webhook_deliveries_run_due()
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert delivery.attempts.count() == 2
    assert len(receiver.received) == 2


def test_an_operator_adds_an_endpoint_and_sees_its_secret_once(operator, merchant):
    form = {"merchant": merchant.merchant.pk, "environment": "live",
            "url": "https://shop.example/hooks", "events": '["invoice.paid"]', "status": "active"}
    response = operator.post("/admin/billing/webhookendpoint/add/", form, follow=True)
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["invoice.paid"] and endpoint.secret.startswith("whsec_")
    assert endpoint.secret in response.content.decode()
    assert AuditEvent.objects.filter(event="webhook_endpoint.created", actor_type="system",
                                     resource_id=endpoint.pk).exists()

    bad = operator.post("/admin/billing/webhookendpoint/add/",
                        {**form, "url": "ftp://x", "events": '["nope"]'})
    assert bad.status_code == 200
    assert b"Unknown event type" in bad.content and b"http" in bad.content
    assert WebhookEndpoint.objects.count() == 1


def test_staff_see_only_their_merchants_deliveries_and_audit(failed_once, other_merchant):
    user = get_user_model().objects.create_user("clerk", password="pw-secret-123",
                                                is_staff=True, is_superuser=False)
    from django.contrib.auth.models import Permission

    user.user_permissions.set(Permission.objects.filter(content_type__app_label="billing"))
    MerchantStaff.objects.create(user=user, merchant=other_merchant.merchant)
    client = Client()
    client.force_login(user)
    _, delivery = failed_once
    assert client.get("/admin/billing/webhookdelivery/").status_code == 200
    assert client.get(f"/admin/billing/webhookdelivery/{delivery.pk}/change/").status_code == 302
    listing = client.get("/admin/billing/auditevent/")
    assert delivery.endpoint_id.encode() not in listing.content

"""Webhook URLs and private addresses (server-side request forgery): live endpoints may not
name loopback, private, link-local or reserved addresses; test endpoints may, unless the
operator says otherwise (WEBHOOK_PRIVATE_ADDRESSES); checked at creation and before each
delivery, when nothing is sent to a refused address."""

from __future__ import annotations

import pytest
from django.test import override_settings

from billing.models import WebhookAttempt, WebhookDelivery
from billing.services.audit import SYSTEM
from billing.services.webhook_deliveries import webhook_deliveries_run_due
from billing.services.webhooks import emit_event, webhook_endpoint_create
from billing.webhook_addresses import is_public, refusal
from cynco.tenancy import Scope
from tests.factories import data_of, error_of

PATH = "/api/v1/pay/webhooks"


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0",
    "100.64.0.1", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "224.0.0.1", "240.0.0.1",
])
def test_non_public_addresses(address):
    assert not is_public(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses(address):
    assert is_public(address)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hook", "http://169.254.169.254/latest/meta-data/",
    "https://[::1]/hook", "http://localhost:9000/x", "http://10.0.0.5/hook",
])
def test_a_live_endpoint_on_a_private_address_is_refused_with_the_field(live_api, url):
    response = live_api.post(PATH, {"url": url})
    assert response.status_code == 422
    (detail,) = error_of(response)["details"]
    assert detail["field"] == "url" and "public addresses only" in detail["message"]


@pytest.mark.django_db
def test_a_test_endpoint_may_use_localhost_by_default(api):
    data_of(api.post(PATH, {"url": "http://127.0.0.1:8080/hook"}), 201)


@pytest.mark.django_db
def test_a_live_endpoint_with_a_name_that_does_not_resolve_yet_is_accepted(live_api):
    data_of(live_api.post(PATH, {"url": "https://hooks.shop.invalid/cynco"}), 201)


@pytest.mark.django_db
@override_settings(WEBHOOK_PRIVATE_ADDRESSES="none")
def test_the_operator_can_refuse_them_in_test_mode_too(api):
    assert error_of(api.post(PATH, {"url": "http://127.0.0.1:8080/hook"}))["details"][0][
        "field"] == "url"


@override_settings(WEBHOOK_PRIVATE_ADDRESSES="all")
def test_the_operator_can_allow_them_everywhere():
    assert refusal("http://127.0.0.1/x", "live", unresolved_ok=False) is None


@pytest.mark.django_db(transaction=True)
def test_a_delivery_to_an_address_refused_since_is_not_sent(merchant, receiver):
    scope = Scope(merchant.merchant.id, "test")
    webhook_endpoint_create(scope=scope, url=receiver.url, events=None, actor=SYSTEM)
    with override_settings(WEBHOOK_PRIVATE_ADDRESSES="none"):
        emit_event(scope=scope, type="invoice.created", data={"id": "pinv_1"})  # sent on commit
        webhook_deliveries_run_due()
    assert receiver.received == []
    attempt = WebhookAttempt.objects.get()
    assert attempt.response_code is None and "public addresses only" in attempt.error
    assert WebhookDelivery.objects.get().status == "pending"  # retried later, as a failure

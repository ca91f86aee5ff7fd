"""Saved cards in the portal: make another card the default, remove one, through the gateways'
services; another customer's card cannot be touched with this link."""

from __future__ import annotations

import pytest
from django.test import Client

from gateways.base import SavedPaymentMethod
from gateways.models import PaymentMethod
from gateways.services.checkout import payment_method_save
from cynco.tenancy import Scope
from tests.billing.subscribing import customer, subscribe_paid
from tests.portal.test_portal_actions import csrf_of, jane, portal_path  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def second_card(jane):  # noqa: F811
    """Jane's Visa 4242 (default, from her checkout) and a Mastercard 4444 saved after it."""
    first = PaymentMethod.objects.get(customer_reference=jane.customer_id)
    payment_method_save(
        scope=_scope(jane), customer_reference=jane.customer_id,
        gateway=first.gateway, gateway_account_id=first.gateway_account_id, make_default=False,
        method=SavedPaymentMethod(token="tok_mc_4444", brand="mastercard", last4="4444",
                                  exp_month=1, exp_year=2031))
    return first, PaymentMethod.objects.get(token="tok_mc_4444")


def _scope(subscription):
    return Scope(subscription.merchant_id, subscription.environment)


def test_jane_makes_her_mastercard_the_default_then_removes_the_visa(api, second_card):
    visa, mastercard = second_card
    browser = Client(enforce_csrf_checks=True)
    path = portal_path(api)
    page = browser.get(path)
    assert "•••• 4444" in page.content.decode() and "Make default" in page.content.decode()
    answer = browser.post(f"{path}/payment-methods/{mastercard.pk}",
                          {"action": "default", "csrfmiddlewaretoken": csrf_of(page)},
                          follow=True)
    assert "Mastercard •••• 4444 is now your default card." in answer.content.decode()
    visa.refresh_from_db()
    mastercard.refresh_from_db()
    assert mastercard.is_default and not visa.is_default
    answer = browser.post(f"{path}/payment-methods/{visa.pk}",
                          {"action": "remove", "csrfmiddlewaretoken": csrf_of(answer)},
                          follow=True)
    assert "Visa •••• 4242 was removed." in answer.content.decode()
    visa.refresh_from_db()
    assert visa.status == PaymentMethod.Status.DETACHED
    assert "•••• 4242" not in answer.content.decode().split("Payment methods")[1].split(
        "Invoices")[0]


def test_another_customers_card_is_not_reachable_with_janes_link(api, jane):  # noqa: F811
    customer(api, "ken")
    subscribe_paid(api, "pro", "ken")
    kens = PaymentMethod.objects.exclude(customer_reference=jane.customer_id).get()
    browser = Client()
    response = browser.post(f"{portal_path(api)}/payment-methods/{kens.pk}", {"action": "remove"})
    assert response.status_code == 404
    kens.refresh_from_db()
    assert kens.status == PaymentMethod.Status.ACTIVE

"""The portal page of a paying customer: invoices newest first with their printable pages, saved
cards, and cancel at period end / resume as CSRF-protected forms behind the signed link."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from billing.models import Subscription
from tests.billing.subscribing import (
    advance, current, customer, invoices, main_catalog, subscribe_paid,
)
from tests.factories import Api, data_of

pytestmark = pytest.mark.django_db(transaction=True)
PORTAL = "/api/v1/pay/portal"
BASE = "http://127.0.0.1:8000"


def portal_path(api, customer_id: str = "jane") -> str:
    return data_of(api.get(f"{PORTAL}?customer={customer_id}"))["url"].removeprefix(BASE)


def csrf_of(page) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]


@pytest.fixture
def jane(api):
    """Jane pays Pro with a Visa on the checkout page, then renews once."""
    main_catalog(api)
    customer(api, "jane")
    subscribe_paid(api, "pro", "jane")
    advance(api, 32 * 24 * 3600)
    return Subscription.objects.get(customer__external_id="jane", product__slug="pro")


@pytest.fixture
def browser():
    return Client(enforce_csrf_checks=True)


def test_jane_sees_her_invoices_newest_first_and_her_card(api, browser, jane):
    page = browser.get(portal_path(api)).content.decode()
    numbers = re.findall(r"INV-TEST-\d{6}", page)
    assert numbers == ["INV-TEST-000002", "INV-TEST-000001"]
    assert page.count("MYR 20.00") == 2 and "Paid" in page
    newest = [i for i in invoices(api, "jane") if i["number"] == "INV-TEST-000002"][0]
    assert newest["hostedUrl"].removeprefix(BASE) in page.replace("&amp;", "&")
    printable = browser.get(newest["hostedUrl"].removeprefix(BASE))
    assert printable.status_code == 200 and "INV-TEST-000002" in printable.content.decode()
    assert "•••• 4242" in page and re.search(r"\d{2}/20\d\d", page)


def test_jane_cancels_at_period_end_and_resumes(api, browser, jane):
    path = portal_path(api)
    page = browser.get(path)
    assert "Cancel at period end" in page.content.decode()
    answer = browser.post(f"{path}/subscriptions/{jane.pk}",
                          {"action": "cancel", "csrfmiddlewaretoken": csrf_of(page)}, follow=True)
    assert "will end at the end of the current period" in answer.content.decode()
    assert current(api, "jane")["pro"]["cancelAtPeriodEnd"] is True
    assert "Resume" in answer.content.decode()
    browser.post(f"{path}/subscriptions/{jane.pk}",
                 {"action": "resume", "csrfmiddlewaretoken": csrf_of(answer)})
    assert current(api, "jane")["pro"]["cancelAtPeriodEnd"] is False


def test_a_form_without_the_csrf_token_changes_nothing(api, browser, jane):
    path = portal_path(api)
    browser.get(path)
    assert browser.post(f"{path}/subscriptions/{jane.pk}", {"action": "cancel"}).status_code == 403
    assert current(api, "jane")["pro"]["cancelAtPeriodEnd"] is False


def test_an_expired_link_cannot_cancel(api, jane):
    with time_machine.travel("2026-11-25 10:00:00Z", tick=False) as traveller:
        path = portal_path(api)
        traveller.shift(timedelta(minutes=61))
        answer = Client().post(f"{path}/subscriptions/{jane.pk}", {"action": "cancel"})
    assert answer.status_code == 410
    assert current(api, "jane")["pro"]["cancelAtPeriodEnd"] is False


def test_only_the_link_owners_paid_plans_can_be_changed(api, jane, other_merchant):
    customer(api, "bob")
    bobs_free = Subscription.objects.get(customer__external_id="bob")
    path = portal_path(api)
    client = Client()
    assert client.post(f"{path}/subscriptions/{bobs_free.pk}",
                       {"action": "cancel"}).status_code == 404  # not Jane's
    bob_path = portal_path(api, "bob")
    assert "Cancel at period end" not in client.get(bob_path).content.decode()  # free plan
    assert client.post(f"{bob_path}/subscriptions/{bobs_free.pk}",
                       {"action": "cancel"}).status_code == 404
    for action in ("cancel_immediately", "pause", ""):
        assert client.post(f"{path}/subscriptions/{jane.pk}",
                           {"action": action}).status_code == 404
    assert client.post(f"{path[:-3]}xyz/subscriptions/{jane.pk}",
                       {"action": "cancel"}).status_code == 404
    assert client.get(f"{path}/subscriptions/{jane.pk}").status_code == 405
    assert current(api, "jane")["pro"]["status"] == "active"
    theirs = Api(other_merchant.secret_test)
    main_catalog(theirs)
    customer(theirs, "jane")
    their_path = portal_path(theirs)
    assert client.post(f"{their_path}/subscriptions/{jane.pk}",
                       {"action": "cancel"}).status_code == 404  # same name, other merchant
    assert current(api, "jane")["pro"]["cancelAtPeriodEnd"] is False

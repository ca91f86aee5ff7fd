"""The console's subscriptions: filters and search, invoices inline, history, merchant scoping,
and actions that go through the cancel services (never a hand edit)."""

from __future__ import annotations

import pytest

from billing.models import AuditEvent, Subscription
from tests.billing.admin_console import act, staff_client
from tests.billing.subscribing import current, customer, main_catalog, subscribe_paid
from tests.factories import Api

pytestmark = pytest.mark.django_db(transaction=True)
PAGE = "/admin/billing/subscription/"


@pytest.fixture
def pro(api):
    main_catalog(api)
    customer(api)
    subscribe_paid(api, "pro")
    return Subscription.objects.get(product__slug="pro")


def test_an_operator_finds_a_subscription_by_filter_and_by_customer(operator, pro):
    pro.customer.email = "jane@example.com"
    pro.customer.save()
    listing = operator.get(f"{PAGE}?status=active&environment=test&q=jane@example").content
    assert pro.pk.encode() in listing
    by_product = operator.get(f"{PAGE}?product__id__exact={pro.product_id}").content
    assert pro.pk.encode() in by_product
    assert pro.pk.encode() not in operator.get(f"{PAGE}?status=canceled").content
    assert pro.pk.encode() in operator.get(f"{PAGE}?q=user_1").content
    page = operator.get(f"{PAGE}{pro.pk}/change/")
    assert page.status_code == 200 and b"INV-TEST-000001" in page.content  # invoices inline
    assert operator.get(f"{PAGE}{pro.pk}/history/").status_code == 200


def test_cancel_at_period_end_then_undo_through_the_service(operator, api, pro):
    act(operator, PAGE, "cancel_at_period_end", [pro.pk])
    assert current(api)["pro"]["cancelAtPeriodEnd"] is True
    assert AuditEvent.objects.filter(event="subscription.canceled",
                                     subscription_id=pro.pk).exists()
    act(operator, PAGE, "uncancel", [pro.pk])
    assert current(api)["pro"]["cancelAtPeriodEnd"] is False


def test_cancel_now_ends_access_and_a_second_try_is_refused_with_a_message(operator, api, pro):
    act(operator, PAGE, "cancel_now", [pro.pk])
    pro.refresh_from_db()
    assert pro.status == "canceled" and "pro" not in current(api)
    again = act(operator, PAGE, "cancel_now", [pro.pk]).content.decode()
    assert "has no current subscription" in again


def test_nothing_on_a_subscription_is_edited_by_hand(operator, pro):
    before = Subscription.objects.values().get(pk=pro.pk)
    response = operator.post(f"{PAGE}{pro.pk}/change/", {
        "status": "canceled", "quantity": "9", "current_period_end_0": "2030-01-01"})
    assert response.status_code in (200, 302, 403)
    assert Subscription.objects.values().get(pk=pro.pk) == before
    assert operator.get(f"{PAGE}add/").status_code == 403
    assert operator.get(f"{PAGE}{pro.pk}/delete/").status_code == 403


def test_staff_see_and_change_only_their_merchants_subscriptions(pro, merchant, other_merchant):
    theirs = Api(other_merchant.secret_test)
    main_catalog(theirs)
    customer(theirs, "their_user")
    subscribe_paid(theirs, "pro", "their_user")
    their_pro = Subscription.objects.get(customer__external_id="their_user", product__slug="pro")
    clerk = staff_client(merchant.merchant, models=("subscription",))

    listing = clerk.get(PAGE).content
    assert pro.pk.encode() in listing and their_pro.pk.encode() not in listing
    assert clerk.get(f"{PAGE}{their_pro.pk}/change/").status_code in (302, 404)
    act(clerk, PAGE, "cancel_now", [their_pro.pk])
    their_pro.refresh_from_db()
    assert their_pro.status == "active"  # not in their queryset: the action never saw it


def test_view_only_staff_cannot_run_the_actions(pro, merchant):
    reader = staff_client(merchant.merchant, models=("subscription",), can_change=False)
    assert pro.pk.encode() in reader.get(PAGE).content
    act(reader, PAGE, "cancel_now", [pro.pk])
    pro.refresh_from_db()
    assert pro.status == "active"

"""The portal's self-service: feature names (not slugs) and usage bars with the reset date,
cancel with an optional reason, resume a paused plan, and change plan with the exact preview of
POST /preview before confirming, through the same services as the API."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from billing.models import AuditEvent, Subscription
from tests.billing.subscribing import DAY, PREVIEW, advance, current, customer, main_catalog
from tests.billing.subscribing import subscribe_paid
from tests.factories import data_of
from tests.portal.test_portal_actions import csrf_of, portal_path

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def jane(api):
    """Jane pays Pro (MYR 20.00, 1,000 messages, premium support) with a saved Visa."""
    main_catalog(api)
    customer(api, "jane")
    subscribe_paid(api, "pro", "jane")
    data_of(api.post("/api/v1/pay/track", {"customer": "jane", "feature": "messages",
                                           "amount": 250}))
    return Subscription.objects.get(customer__external_id="jane", product__slug="pro")


@pytest.fixture
def browser():
    return Client(enforce_csrf_checks=True)


def test_usage_shows_feature_names_and_a_bar_with_the_reset_date(api, browser, jane):
    page = browser.get(portal_path(api)).content.decode()
    assert "Included: Premium Support" in page and "premium_support" not in page
    assert ">Messages</span>" in page and ">messages<" not in page
    assert "250 of 1000 used" in page
    assert 'role="progressbar" aria-label="Messages used"' in page
    assert 'aria-valuenow="25"' in page and "width: 25%" in page
    assert f"Resets on {jane.current_period_end:%-d %b %Y}" in page


def test_jane_cancels_with_a_reason_that_is_kept(api, browser, jane):
    path = portal_path(api)
    page = browser.get(path)
    assert "Why are you leaving? (optional)" in page.content.decode()
    browser.post(f"{path}/subscriptions/{jane.pk}", {
        "action": "cancel", "reason": "Too expensive for us",
        "csrfmiddlewaretoken": csrf_of(page)})
    jane.refresh_from_db()
    assert jane.cancel_at_period_end is True
    kept = AuditEvent.objects.get(event="portal.cancel_reason", subscription_id=jane.pk)
    assert kept.details == {"reason": "Too expensive for us"}


def test_jane_resumes_a_paused_plan(api, browser, jane):
    data_of(api.post("/api/v1/pay/subscriptions/update",
                     {"customer": "jane", "product": "pro", "pauseAction": "pause"}))
    path = portal_path(api)
    page = browser.get(path)
    assert "Resume plan" in page.content.decode()
    answer = browser.post(f"{path}/subscriptions/{jane.pk}",
                          {"action": "unpause", "csrfmiddlewaretoken": csrf_of(page)},
                          follow=True)
    assert "Pro is active again." in answer.content.decode()
    jane.refresh_from_db()
    assert jane.status == Subscription.Status.ACTIVE


def test_changing_plan_shows_the_apis_exact_preview_then_upgrades(api, browser, jane):
    advance(api, 10 * DAY)
    path = portal_path(api)
    plans = browser.get(f"{path}/plans").content.decode()
    assert "Free" in plans and "Pro" in plans and "Enterprise" in plans
    assert "MYR 50.00" in plans and "Your plan" in plans
    preview_page = browser.get(f"{path}/plans/enterprise")
    text = preview_page.content.decode()
    expected = data_of(api.post(PREVIEW, {"customer": "jane", "product": "enterprise"}))
    assert expected["scenario"] == "upgrade"
    due = expected["amountDue"]
    assert f"MYR {due // 100}.{due % 100:02d}" in text  # the API's own figure
    for line in expected["lineItems"]:
        assert line["title"] in text
    assert current(api, "jane").keys() >= {"pro"}  # the preview changed nothing
    browser.post(f"{path}/plans/enterprise", {"csrfmiddlewaretoken": csrf_of(preview_page)})
    assert "enterprise" in current(api, "jane")


def test_a_downgrade_waits_for_the_period_end(api, browser, jane):
    path = portal_path(api)
    page = browser.get(f"{path}/plans/free").content.decode()
    assert "Nothing is charged now" in page
    assert re.search(r"You keep Pro until \d+ \w+ \d{4}", page)


def test_another_group_or_an_unknown_plan_is_refused(api, browser, jane):
    path = portal_path(api)
    assert browser.get(f"{path}/plans/pro").status_code == 404  # the plan held
    assert browser.get(f"{path}/plans/nope").status_code == 404

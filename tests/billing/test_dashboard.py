"""The console dashboard: four charts over 12 months drawn by the vendored Chart.js (no CDN),
their figures in a table in cynco.money's format, and the lists that need attention: failed
payments, past-due subscriptions and failing webhook endpoints."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from billing.models import Subscription
from billing.selectors.attention import active_subscriptions_history
from billing.services.audit import SYSTEM
from billing.services.webhook_deliveries import webhook_deliveries_run_due
from billing.services.webhooks import webhook_endpoint_create
from cynco.tenancy import Scope
from tests.billing.admin_console import declined_renewal
from tests.billing.catalog import subscribe_directly
from tests.billing.subscribing import customer, main_catalog, now

pytestmark = pytest.mark.django_db(transaction=True)
PAGE = "/admin/billing-dashboard/"


def test_the_charts_come_from_the_vendored_library_with_twelve_months_of_figures(
        operator, api):
    main_catalog(api)
    customer(api)
    declined_renewal(api)
    html = operator.get(PAGE).content.decode()
    assert '<script src="/static/vendor/chartjs/chart.umd.min.js" defer></script>' in html
    assert "cdn" not in html.lower() and "https://" not in html.split("<body")[0]
    assert Client().get("/static/vendor/chartjs/chart.umd.min.js").status_code == 200
    for chart in ("chart-mrr", "chart-revenue", "chart-active", "chart-churn"):
        assert f'id="{chart}"' in html
    assert html.count("<tr><td>20") == 12  # one row per month (20xx-..) in the figures' table
    assert "MYR 20.00" in html  # the month's MRR and revenue, formatted


def test_needs_attention_lists_failed_payments_past_due_and_failing_endpoints(
        operator, api, merchant, receiver):
    scope = Scope(merchant.merchant.id, "test")
    webhook_endpoint_create(scope=scope, url=receiver.url, events=None, actor=SYSTEM)
    receiver.statuses = [500] * 50
    main_catalog(api)
    customer(api)
    invoice = declined_renewal(api)
    webhook_deliveries_run_due()
    assert Subscription.objects.get(pk=invoice.subscription_id).status == "past_due"
    html = operator.get(PAGE).content.decode()
    failed = html.split("Failed payments (latest)")[1].split("</section>")[0]
    assert "user_1" in failed and "MYR 20.00" in failed
    past_due = html.split("Past-due subscriptions")[1].split("</section>")[0]
    assert "user_1" in past_due and "Pro" in past_due
    endpoints = html.split("Failing webhook endpoints")[1].split("</section>")[0]
    assert receiver.url in endpoints and "500" in endpoints


def test_active_subscriptions_are_counted_at_each_month_end(api, merchant):
    """b's Pro was canceled a second ago: counted at last month's end, not now."""
    main_catalog(api)
    at = now(api)
    customer(api, "a")
    customer(api, "b")
    kept = subscribe_directly("a", "pro", start=at - timedelta(days=70), end=at + timedelta(days=5))
    gone = subscribe_directly("b", "pro", start=at - timedelta(days=70), end=at,
                              status="canceled", canceled_at=at - timedelta(seconds=1))
    Subscription.objects.filter(pk__in=[kept.pk, gone.pk]).update(
        created_at=at - timedelta(days=70))
    history = active_subscriptions_history(scope=Scope(merchant.merchant.id, "test"), at=at,
                                           months=4)
    live_now = Subscription.objects.filter(
        customer__merchant=merchant.merchant, status__in=("active", "trialing", "past_due"),
        created_at__lt=at).count()
    assert history[-1]["active"] == live_now
    assert history[-2]["active"] == live_now + 1  # b's Pro still ran at last month's end

"""Operator console dashboard: headline analytics, charts over 12 months (MRR, revenue, active
subscriptions, churn) drawn by the vendored Chart.js, and the lists that need attention."""

from __future__ import annotations

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path

from billing.models import Subscription
from billing.selectors.analytics import analytics_summary, mrr_history, revenue_timeline
from billing.selectors.attention import (
    active_subscriptions_history,
    failed_payments,
    failing_webhook_endpoints,
    past_due_subscriptions,
)
from billing.selectors.unapplied_payments import payments_needing_attention
from cynco import clock
from cynco.admin_scoping import report_choice
from cynco.models import Environment
from cynco.money import show_money
from cynco.tenancy import Scope

CHART_MONTHS = 12


def has_subscriptions(scope: Scope) -> bool:
    """Whether the dashboard has anything to show for `scope` (its environment default)."""
    return Subscription.objects.for_scope(scope).exists()


def chart_data(*, scope: Scope, currency: str, at) -> dict:
    """The four charts' series, as the page's script reads them (json_script): money both as
    minor units (the bars) and as cynco.money text (the labels)."""
    mrr = mrr_history(scope=scope, currency=currency, at=at, months=CHART_MONTHS)
    timeline = revenue_timeline(scope=scope, currency=currency, at=at, months=CHART_MONTHS)
    active = active_subscriptions_history(scope=scope, at=at, months=CHART_MONTHS)
    return {
        "months": [row["month"] for row in mrr],
        "mrr": [row["mrr"] for row in mrr],
        "mrrText": [show_money(row["mrr"], currency) for row in mrr],
        "revenue": [row["revenue"] for row in timeline],
        "revenueText": [show_money(row["revenue"], currency) for row in timeline],
        "active": [row["active"] for row in active],
        "churned": [row["churned"] for row in timeline],
        "started": [row["newSubscriptions"] for row in timeline],
    }


def dashboard_view(request):
    merchants, merchant, environment = report_choice(request, has_data=has_subscriptions)
    context = {
        **admin.site.each_context(request),
        "title": "Billing dashboard",
        "merchants": merchants,
        "merchant": merchant,
        "environments": Environment.values,
        "environment": environment,
    }
    if merchant is not None:
        scope = Scope(merchant.pk, environment)
        at = clock.now(scope)
        currency = merchant.default_currency
        context["summary"] = analytics_summary(scope=scope, currency=currency, at=at)
        charts = chart_data(scope=scope, currency=currency, at=at)
        context["charts"] = charts
        context["chart_rows"] = [
            {"month": month, "mrr": charts["mrrText"][i], "revenue": charts["revenueText"][i],
             "active": charts["active"][i], "started": charts["started"][i],
             "churned": charts["churned"][i]}
            for i, month in enumerate(charts["months"])
        ]
        context["failed_payments"] = failed_payments(scope=scope)
        context["past_due"] = past_due_subscriptions(scope=scope)
        context["failing_endpoints"] = failing_webhook_endpoints(scope=scope)
        # Payments that landed after what they paid for was gone and whose refund the gateway
        # refused: the money is held as the customer's credit until an operator acts.
        context["unapplied"] = list(payments_needing_attention(scope=scope)[:10])
    return TemplateResponse(request, "admin/billing/dashboard.html", context)


urlpatterns = [path("", admin.site.admin_view(dashboard_view), name="billing-dashboard")]

"""Operator console dashboard: headline analytics and charts of MRR and ledger revenue."""

from __future__ import annotations

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path

from billing.models import Subscription
from billing.selectors.analytics import analytics_summary, mrr_history, revenue_timeline
from cynco import clock
from cynco.admin_scoping import report_choice
from cynco.models import Environment
from cynco.tenancy import Scope

CHART_MONTHS = 12


def bars(rows: list[dict], field: str) -> list[dict]:
    """Rows with the bar height of `field` as a percentage of the largest value."""
    top = max((row[field] for row in rows), default=0) or 1
    return [{**row, "height": max(0, round(row[field] * 100 / top))} for row in rows]


def has_subscriptions(scope: Scope) -> bool:
    """Whether the dashboard has anything to show for `scope` (its environment default)."""
    return Subscription.objects.for_scope(scope).exists()


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
        context["mrr_bars"] = bars(
            mrr_history(scope=scope, currency=currency, at=at, months=CHART_MONTHS), "mrr"
        )
        context["revenue_bars"] = bars(
            revenue_timeline(scope=scope, currency=currency, at=at, months=CHART_MONTHS),
            "revenue",
        )
    return TemplateResponse(request, "admin/billing/dashboard.html", context)


urlpatterns = [path("", admin.site.admin_view(dashboard_view), name="billing-dashboard")]

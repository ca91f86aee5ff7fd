"""Routes of /api/v1/pay/ (paths without a trailing slash, as the client calls them).

Each area keeps its routes in its own module (`billing/api/<area>_urls.py`) and is added below.
"""

from django.urls import include, path

from cynco.api import clock as clock_views

urlpatterns = [
    # First: check and track are the busiest routes, and Django tries the patterns in order.
    path("", include("billing.api.entitlement_urls")),
    path("test/clock", clock_views.TestClockView.as_view(), name="test-clock"),
    path("", include("billing.api.catalog_urls")),
    path("", include("billing.api.keys_urls")),
    path("", include("billing.api.billing_settings_urls")),
    path("", include("billing.api.webhooks_urls")),
    path("", include("billing.api.audit_urls")),
    path("", include("billing.api.subscription_urls")),
    path("", include("billing.api.insights_urls")),
    path("", include("billing.api.coupon_urls")),
    path("", include("billing.api.reward_urls")),
]

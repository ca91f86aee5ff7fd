"""Routes of /api/v1/pay/ (paths without a trailing slash, as the client calls them).

Each area keeps its routes in its own module (`billing/api/<area>_urls.py`) and is added below.
"""

from django.urls import include, path

from cynco.api import clock as clock_views
from cynco.api import keys as key_views

urlpatterns = [
    path("api-keys", key_views.ApiKeysView.as_view(), name="api-keys"),
    path("test/clock", clock_views.TestClockView.as_view(), name="test-clock"),
    path("", include("billing.api.catalog_urls")),
    path("", include("billing.api.entitlement_urls")),
]

"""Routes of /api/v1/pay/ (paths without a trailing slash, as the client calls them)."""

from django.urls import path

from cynco.api import clock as clock_views
from cynco.api import keys as key_views

urlpatterns = [
    path("api-keys", key_views.ApiKeysView.as_view(), name="api-keys"),
    path("test/clock", clock_views.TestClockView.as_view(), name="test-clock"),
]

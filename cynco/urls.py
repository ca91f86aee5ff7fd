"""Top-level routes. Each app mounts its API under /api/v1/… from its own `api/urls.py`."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from cynco.api.fallbacks import api_not_found
from cynco.health import healthz
from cynco.home import site_home
from cynco.metrics_endpoint import metrics_view

urlpatterns = [
    # First: the API's busiest routes (check, track) are resolved in the fewest steps.
    path("api/v1/pay/", include("billing.api.urls")),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/billing-dashboard/", include("billing.admin.dashboard")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/ledger/", include("ledger.api.urls")),
    path("gateways/", include("gateways.urls")),
    path("", site_home, name="site-home"),
    path("", include("portal.urls")),
    re_path(r"^api/", api_not_found),
]

handler400 = "cynco.api.fallbacks.bad_request"
handler500 = "cynco.api.fallbacks.server_error"

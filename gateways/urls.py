"""Routes of the gateways app, mounted at /gateways/ (outside /api/v1/: no API keys here)."""

from django.urls import path

from gateways.sandbox.views import authenticate
from gateways.views import gateway_webhook

urlpatterns = [
    path("sandbox/authenticate/<str:payment_id>", authenticate, name="sandbox-authenticate"),
    path("<slug:gateway>/webhook", gateway_webhook, name="gateway-webhook"),
    path("<slug:gateway>/webhook/<str:account_id>", gateway_webhook,
         name="gateway-account-webhook"),
]

from django.urls import path

from billing.api.webhooks import WebhooksView

urlpatterns = [path("webhooks", WebhooksView.as_view(), name="webhooks")]

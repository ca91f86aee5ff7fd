from django.urls import path

from billing.api.keys import ApiKeysView

urlpatterns = [path("api-keys", ApiKeysView.as_view(), name="api-keys")]

from django.urls import path

from billing.api.billing_settings import BillingSettingsView

urlpatterns = [path("billing-settings", BillingSettingsView.as_view(), name="billing-settings")]

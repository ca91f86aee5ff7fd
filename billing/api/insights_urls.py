"""Routes of analytics and the customer portal link."""

from django.urls import path

from billing.api.analytics import AnalyticsView
from billing.api.portal import PortalLinkView

urlpatterns = [
    path("analytics", AnalyticsView.as_view(), name="analytics"),
    path("portal", PortalLinkView.as_view(), name="portal-link"),
]

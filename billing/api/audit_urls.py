from django.urls import path

from billing.api.audit import AuditView

urlpatterns = [path("audit", AuditView.as_view(), name="audit")]

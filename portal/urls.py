"""Customer-facing pages: portal and hosted checkout (server-rendered, signed links)."""

from django.urls import path

from portal import views

urlpatterns = [
    path("checkout/sandbox/<str:session_id>", views.sandbox_checkout, name="sandbox-checkout"),
    path("invoices/<str:token>", views.invoice_page, name="invoice-page"),
]

"""Customer-facing pages: portal and hosted checkout (server-rendered, signed links)."""

from django.urls import path

from portal import checkout_pages, email_links, invoice_pdf, payment_methods, plan_change, views

urlpatterns = [
    path("checkout/sandbox/<str:session_id>", checkout_pages.sandbox_checkout, name="sandbox-checkout"),
    path("checkout/stripe/<str:session_id>", checkout_pages.stripe_checkout,
         name="stripe-checkout"),
    path("invoices/<str:token>", checkout_pages.invoice_page, name="invoice-page"),
    path("portal/email/<str:token>", email_links.portal_from_email, name="portal-from-email"),
    path("invoices/<str:token>/pdf", invoice_pdf.invoice_pdf, name="invoice-pdf"),
    path("portal/<str:token>", views.portal_home, name="portal-home"),
    path("portal/<str:token>/card", email_links.portal_card_update, name="portal-card-update"),
    path("merchant-logos/<str:merchant_id>/<str:digest>", email_links.merchant_logo,
         name="merchant-logo"),
    path("portal/<str:token>/subscriptions/<str:subscription_id>",
         views.portal_subscription_change, name="portal-subscription-change"),
    path("portal/<str:token>/plans", plan_change.portal_plans, name="portal-plans"),
    path("portal/<str:token>/payment-methods/<str:method_id>",
         payment_methods.portal_payment_method_change, name="portal-payment-method-change"),
    path("portal/<str:token>/plans/<str:slug>", plan_change.portal_plan_preview,
         name="portal-plan-preview"),
]

"""Customer-facing pages: portal and hosted checkout (server-rendered, signed links)."""

from django.urls import path

from portal import checkout_pages, email_links, views

urlpatterns = [
    path("checkout/sandbox/<str:session_id>", checkout_pages.sandbox_checkout, name="sandbox-checkout"),
    path("checkout/stripe/<str:session_id>", checkout_pages.stripe_checkout,
         name="stripe-checkout"),
    path("invoices/<str:token>", checkout_pages.invoice_page, name="invoice-page"),
    path("portal/email/<str:token>", email_links.portal_from_email, name="portal-from-email"),
    path("portal/<str:token>", views.portal_home, name="portal-home"),
    path("portal/<str:token>/card", email_links.portal_card_update, name="portal-card-update"),
    path("merchant-logos/<str:merchant_id>/<str:digest>", email_links.merchant_logo,
         name="merchant-logo"),
    path("portal/<str:token>/subscriptions/<str:subscription_id>",
         views.portal_subscription_change, name="portal-subscription-change"),
]

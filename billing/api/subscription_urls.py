"""Routes of subscribing, subscriptions, invoices and the test helpers."""

from django.urls import path

from billing.api import credit_notes, invoices, subscriptions, test_helpers

urlpatterns = [
    path("subscribe", subscriptions.SubscribeView.as_view(), name="subscribe"),
    path("multi-attach", subscriptions.MultiAttachView.as_view(), name="multi-attach"),
    path("preview", subscriptions.PreviewView.as_view(), name="preview"),
    path("cancel", subscriptions.CancelView.as_view(), name="cancel"),
    path("subscriptions", subscriptions.SubscriptionsView.as_view(), name="subscriptions"),
    path("subscriptions/update", subscriptions.SubscriptionUpdateView.as_view(),
         name="subscriptions-update"),
    path("subscriptions/preview-update", subscriptions.SubscriptionPreviewUpdateView.as_view(),
         name="subscriptions-preview-update"),
    path("invoices", invoices.InvoicesView.as_view(), name="invoices"),
    path("invoices/<str:invoice_id>", invoices.InvoiceView.as_view(), name="invoice"),
    path("credit-notes", credit_notes.CreditNotesView.as_view(), name="credit-notes"),
    path("credit-notes/<str:credit_note_id>", credit_notes.CreditNoteView.as_view(),
         name="credit-note"),
    path("test/checkouts/<str:checkout_id>/complete", test_helpers.CheckoutCompleteView.as_view(),
         name="test-checkout-complete"),
    path("test/clock/advance", test_helpers.ClockAdvanceView.as_view(),
         name="test-clock-advance"),
]

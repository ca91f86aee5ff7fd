"""SubscribeResult, PreviewResult, subscription changes, cancel, invoices and the test helpers'
answers (API.md, Core; Subscriptions; Billing; Beyond the client)."""

from __future__ import annotations

from rest_framework import serializers as s

from billing.api.shapes.customers import SubscriptionSummaryShape, usage_number
from billing.models import CreditNote, CreditNoteLine, Invoice, InvoiceLine
from billing.services.test_clock import RAN_KEYS


class RequiredActionShape(s.Serializer):
    code = s.ChoiceField(choices=["payment_failed", "3ds_required"])
    reason = s.CharField()


class SubscribeResultShape(s.Serializer):
    """What subscribing did. `url` is always there when `action` is `checkout` (send the
    customer there); optional keys are left out when they do not apply."""

    action = s.ChoiceField(choices=["checkout", "activated", "scheduled", "noop"])
    url = s.URLField(required=False)
    checkoutUrl = s.URLField(required=False, help_text="This server's own checkout page.")
    checkoutId = s.CharField(required=False)
    subscription = SubscriptionSummaryShape(required=False)
    effectiveAt = s.DateTimeField(required=False)
    prorationAmount = s.IntegerField(required=False, help_text="Net charged for an upgrade.")
    discountAmount = s.IntegerField(required=False)
    requiredAction = RequiredActionShape(required=False)


class PreviewLineShape(s.Serializer):
    title = s.CharField()
    description = s.CharField(allow_blank=True)
    amount = s.IntegerField()


class ProrationShape(s.Serializer):
    """`refundAmount` and `refundCurrency` only when the current plan is priced in another
    currency: its unused part is then refunded in that currency, never credited."""

    creditAmount = s.IntegerField()
    chargeAmount = s.IntegerField()
    refundAmount = s.IntegerField(required=False)
    refundCurrency = s.CharField(required=False)


class TrialShape(s.Serializer):
    trialDays = s.IntegerField()
    trialEnd = s.DateTimeField()
    firstPeriodStart = s.DateTimeField(
        help_text="When the first paid period starts: the trial's end (the billing anchor).")
    firstPeriodEnd = s.DateTimeField(
        allow_null=True, help_text="When the first paid period ends: one full interval later.")


class PreviewResultShape(s.Serializer):
    """What subscribing now would do, priced exactly as subscribe prices it; no side
    effects. `discountAmount` only when a `couponCode` was given."""

    scenario = s.ChoiceField(choices=["new", "upgrade", "downgrade", "active", "scheduled",
                                      "canceled"])
    amountDue = s.IntegerField()
    total = s.IntegerField()
    lineItems = PreviewLineShape(many=True)
    proration = ProrationShape(allow_null=True)
    trial = TrialShape(allow_null=True)
    currentPlan = s.CharField(allow_null=True, help_text="Slug of the plan held now.")
    targetPlan = s.CharField()
    discountAmount = s.IntegerField(required=False)


class UpdatedSubscriptionShape(s.Serializer):
    id = s.CharField()
    status = s.CharField()
    productSlug = s.CharField()
    quantity = s.IntegerField()


class SubscriptionUpdateResultShape(s.Serializer):
    """`action` is `preview` from preview-update (which changes nothing)."""

    updated = s.BooleanField()
    action = s.ChoiceField(choices=["canceled", "uncanceled", "canceled_immediately", "paused",
                                    "resumed", "quantity_updated", "preview"])
    subscription = UpdatedSubscriptionShape()
    lineItems = PreviewLineShape(many=True)
    total = s.IntegerField()
    refundAmount = s.IntegerField(required=False)
    effectiveAt = s.DateTimeField(required=False)


class CancelResultShape(s.Serializer):
    canceled = s.BooleanField()
    effectiveAt = s.DateTimeField(allow_null=True, help_text="When the last access ends.")


class InvoiceLineShape(s.Serializer):
    type = s.ChoiceField(choices=InvoiceLine.Type.choices)
    description = s.CharField(allow_blank=True)
    quantity = usage_number()
    unitAmount = s.IntegerField()
    amount = s.IntegerField()
    periodStart = s.DateTimeField(allow_null=True)
    periodEnd = s.DateTimeField(allow_null=True)


class InvoiceShape(s.Serializer):
    """Amounts in minor units; `hostedUrl` is a signed page the customer can open and print."""

    id = s.CharField()
    number = s.CharField(allow_null=True)
    status = s.ChoiceField(choices=Invoice.Status.choices)
    customerId = s.CharField()
    subscriptionId = s.CharField(allow_null=True)
    currency = s.CharField()
    lines = InvoiceLineShape(many=True)
    subtotal = s.IntegerField()
    discountAmount = s.IntegerField()
    taxAmount = s.IntegerField()
    total = s.IntegerField()
    amountPaid = s.IntegerField()
    amountDue = s.IntegerField()
    periodStart = s.DateTimeField(allow_null=True)
    periodEnd = s.DateTimeField(allow_null=True)
    createdAt = s.DateTimeField()
    dueAt = s.DateTimeField(allow_null=True)
    paidAt = s.DateTimeField(allow_null=True)
    hostedUrl = s.URLField()


class CreditNoteLineShape(s.Serializer):
    type = s.ChoiceField(choices=CreditNoteLine.Type.choices)
    description = s.CharField(allow_blank=True)
    amount = s.IntegerField(help_text="Positive: credited to the customer.")


class CreditNoteShape(s.Serializer):
    """The document of a refund, a credit kept for later invoices or a write-off: its lines,
    the tax it gives back (a `tax` line and `taxAmount`) and `total` = subtotal + tax, in
    minor units of the invoice's currency."""

    id = s.CharField()
    number = s.CharField(help_text="CN-000001 (live), CN-TEST-000001 (test).")
    type = s.ChoiceField(choices=CreditNote.Type.choices)
    customerId = s.CharField()
    invoiceId = s.CharField()
    invoiceNumber = s.CharField(allow_null=True)
    refundId = s.CharField(allow_null=True)
    currency = s.CharField()
    lines = CreditNoteLineShape(many=True)
    subtotal = s.IntegerField()
    taxAmount = s.IntegerField()
    total = s.IntegerField()
    reason = s.CharField(allow_blank=True)
    createdAt = s.DateTimeField()


class CheckoutCompletionShape(s.Serializer):
    checkoutId = s.CharField()
    status = s.ChoiceField(choices=["completed", "failed", "requires_action"])
    subscription = SubscriptionSummaryShape(required=False)
    requiredAction = RequiredActionShape(required=False)
    url = s.URLField(required=False, help_text="Where to complete 3-D Secure.")


class ClockRanShape(s.Serializer):
    """How many of each job ran."""

    def get_fields(self):
        return {key: s.IntegerField() for key in RAN_KEYS}


class ClockAdvanceShape(s.Serializer):
    now = s.DateTimeField(help_text="The test clock after the move.")
    ran = ClockRanShape()

"""`/billing-settings`: the merchant's invoice identity and billing email settings.

They belong to the merchant, shared by its live and test environments (an invoice identity is
one business's; test-mode emails are switched on by `emails.sendInTestMode`), so either secret
key reads and changes them. PATCH changes only the fields given.
"""

from __future__ import annotations

from django.db import transaction
from rest_framework import serializers as s

from billing.api.actors import actor_of
from billing.api.usage import parsed
from billing.models import EMAIL_KINDS, INVOICE_PREFIX_PATTERN, EmailKind
from billing.selectors.invoice_identity import identity_of
from billing.services.billing_emails import settings_of
from billing.services.email_settings import (
    MAX_NOTICE_DAYS,
    email_settings_clean,
    email_settings_update,
)
from billing.services.invoice_identity import (
    invoice_identity_clean,
    invoice_identity_update,
    logo_from_data_url,
)
from cynco.api.schema import openapi
from cynco.api.views import ApiView
from cynco.fields import StrictBooleanField, StrictCharField, StrictIntegerField
from cynco.models import Merchant
from cynco.responses import ok

KINDS_HELP = "Each email kind (" + ", ".join(EMAIL_KINDS) + ") on (true) or off (false)."


class KindsField(s.DictField):
    child = StrictBooleanField()


class InvoiceIdentityInput(s.Serializer):
    legalName = StrictCharField(text=True, max_length=200, allow_blank=True, required=False)
    address = StrictCharField(text=True, max_length=1000, allow_blank=True, required=False)
    footer = StrictCharField(text=True, max_length=1000, allow_blank=True, required=False)
    numberPrefix = StrictCharField(max_length=12, required=False, help_text=(
        f"Pattern {INVOICE_PREFIX_PATTERN}; applies to invoice numbers given from now on."))
    logo = StrictCharField(text=True, max_length=400_000, allow_null=True, required=False,
                           help_text="A PNG, JPEG or GIF of at most 256 KB as a data URL "
                                     "(data:image/png;base64,…); null removes the logo.")


class EmailSettingsInput(s.Serializer):
    senderName = StrictCharField(text=True, max_length=100, allow_blank=True, required=False)
    replyTo = StrictCharField(text=True, max_length=254, allow_blank=True, required=False)
    sendInTestMode = StrictBooleanField(required=False)
    trialEndingDays = StrictIntegerField(min_value=1, max_value=MAX_NOTICE_DAYS, required=False)
    renewalNoticeDays = StrictIntegerField(min_value=1, max_value=MAX_NOTICE_DAYS,
                                           required=False)
    kinds = KindsField(required=False, help_text=KINDS_HELP)


class BillingSettingsInput(s.Serializer):
    invoice = InvoiceIdentityInput(required=False)
    emails = EmailSettingsInput(required=False)


class InvoiceIdentityShape(s.Serializer):
    legalName = s.CharField(help_text="The merchant's name when none was set.")
    address = s.CharField()
    footer = s.CharField()
    numberPrefix = s.CharField()
    logoUrl = s.CharField(allow_null=True, help_text="Served by this server; null: no logo.")


# One boolean per kind, named as the kind (the serializer's fields are the kinds).
EmailKindsShape = type("EmailKindsShape", (s.Serializer,), {
    kind: s.BooleanField(help_text=EmailKind(kind).label) for kind in EMAIL_KINDS})


class EmailSettingsShape(s.Serializer):
    senderName = s.CharField(help_text="Empty: the invoice legal name is shown as the sender.")
    replyTo = s.CharField()
    sendInTestMode = s.BooleanField()
    trialEndingDays = s.IntegerField()
    renewalNoticeDays = s.IntegerField()
    kinds = EmailKindsShape()


class BillingSettingsShape(s.Serializer):
    invoice = InvoiceIdentityShape()
    emails = EmailSettingsShape()


INVOICE_FIELDS = {"legalName": "legal_name", "address": "address", "footer": "footer",
                  "numberPrefix": "number_prefix"}
EMAIL_FIELDS = {"senderName": "sender_name", "replyTo": "reply_to",
                "sendInTestMode": "send_in_test_mode", "trialEndingDays": "trial_ending_days",
                "renewalNoticeDays": "renewal_notice_days", "kinds": "kinds"}


def billing_settings_data(merchant_id: str) -> dict:
    identity = identity_of(Merchant.objects.get(pk=merchant_id))
    chosen = settings_of(merchant_id)
    return {
        "invoice": {"legalName": identity.name, "address": identity.address,
                    "footer": identity.footer, "numberPrefix": identity.number_prefix,
                    "logoUrl": identity.logo_url or None},
        "emails": {"senderName": chosen.sender_name, "replyTo": chosen.reply_to,
                   "sendInTestMode": chosen.send_in_test_mode,
                   "trialEndingDays": chosen.trial_ending_days,
                   "renewalNoticeDays": chosen.renewal_notice_days,
                   "kinds": {kind: chosen.sends(kind) for kind in EMAIL_KINDS}},
    }


class BillingSettingsView(ApiView):
    @openapi("billing_settings_get", summary="The merchant's invoice identity and email "
             "settings", data=BillingSettingsShape)
    def get(self, request):
        return ok(billing_settings_data(self.scope.merchant_id))

    @openapi("billing_settings_update", summary="Change the invoice identity or email settings",
             description="Only the fields given change. `invoice.logo` takes a data URL (PNG, "
                         "JPEG or GIF, at most 256 KB) or null to remove the logo; the logo "
                         "is then served by this server at `logoUrl`. Shared by the merchant's "
                         "live and test environments.",
             input=BillingSettingsInput, data=BillingSettingsShape)
    def patch(self, request):
        values = parsed(BillingSettingsInput, request)
        actor = actor_of(request)
        invoice = {INVOICE_FIELDS[k]: v for k, v in values.get("invoice", {}).items()
                   if k in INVOICE_FIELDS}
        if "logo" in values.get("invoice", {}):
            logo = values["invoice"]["logo"]
            invoice["logo"] = None if logo is None else logo_from_data_url(logo)
        emails = {EMAIL_FIELDS[k]: v for k, v in values.get("emails", {}).items()}
        invoice_identity_clean(invoice)  # both checked before either is written
        email_settings_clean(emails)
        with transaction.atomic():
            if invoice:
                invoice_identity_update(scope=self.scope, changes=invoice, actor=actor)
            if emails:
                email_settings_update(scope=self.scope, changes=emails, actor=actor)
        return ok(billing_settings_data(self.scope.merchant_id))

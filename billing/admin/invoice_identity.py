"""A merchant's invoice identity in the console: legal name, address, footer, number prefix
and the logo, uploaded here (or through the API) and served by this server."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html

from billing.admin.merchant_settings import MerchantSettingsAdmin
from billing.models import InvoiceIdentity
from billing.selectors.invoice_identity import logo_url
from billing.services.invoice_identity import (
    LOGO_MAX_BYTES,
    invoice_identity_clean,
    invoice_identity_update,
)
from cynco.errors import ValidationFailed

TEXT_FIELDS = ("legal_name", "address", "footer", "number_prefix")


class InvoiceIdentityForm(forms.ModelForm):
    logo_file = forms.FileField(required=False, label="Logo",
                                help_text=f"PNG, JPEG or GIF, at most {LOGO_MAX_BYTES // 1024} KB")
    remove_logo = forms.BooleanField(required=False)

    class Meta:
        model = InvoiceIdentity
        fields = ("merchant", *TEXT_FIELDS)

    def clean(self):
        values = super().clean()
        self.changes = {field: values.get(field) or "" for field in TEXT_FIELDS}
        if values.get("logo_file") is not None:
            self.changes["logo"] = values["logo_file"].read(LOGO_MAX_BYTES + 1)
        elif values.get("remove_logo"):
            self.changes["logo"] = None
        try:  # the API's rules, as form errors
            invoice_identity_clean(self.changes)
        except ValidationFailed as refusal:
            for detail in refusal.details:
                self.add_error(None, f"{detail['field']}: {detail['message']}")
        return values


@admin.register(InvoiceIdentity)
class InvoiceIdentityAdmin(MerchantSettingsAdmin):
    form = InvoiceIdentityForm
    list_display = ("merchant", "legal_name", "number_prefix", "updated_at")
    readonly_fields = ("current_logo",)

    update = staticmethod(invoice_identity_update)

    def get_fields(self, request, obj=None):
        return ["merchant", *TEXT_FIELDS, "current_logo", "logo_file", "remove_logo"]

    @admin.display(description="current logo")
    def current_logo(self, obj):
        url = logo_url(obj) if obj is not None and obj.pk else ""
        return format_html('<img src="{}" style="max-height:56px">', url) if url else "none"

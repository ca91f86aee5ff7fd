"""Billing emails in the console: each merchant's settings with a preview of every email, and
the outbox — what was sent, what failed and why (SMTP errors and bounces), send again."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from billing.admin.merchant_settings import MerchantSettingsAdmin
from billing.models import EMAIL_KINDS, EmailAttempt, EmailKind, EmailMessage, EmailSettings
from billing.selectors.email_content import email_preview
from billing.services.email_delivery import email_retry
from billing.services.email_settings import email_settings_clean, email_settings_update
from cynco.admin_scoping import MerchantScopedAdmin, staff_merchant_id
from cynco.errors import ValidationFailed
from cynco.models import Merchant

SETTINGS_FIELDS = ("sender_name", "reply_to", "send_in_test_mode", "trial_ending_days",
                   "renewal_notice_days")


class EmailSettingsForm(forms.ModelForm):
    enabled_kinds = forms.MultipleChoiceField(
        choices=EmailKind.choices, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="The emails sent to this merchant's customers")

    class Meta:
        model = EmailSettings
        fields = ("merchant", *SETTINGS_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        disabled = set(self.instance.disabled_kinds or [])
        self.initial["enabled_kinds"] = [kind for kind in EMAIL_KINDS if kind not in disabled]

    def clean(self):
        values = super().clean()
        enabled = set(values.get("enabled_kinds") or [])
        self.changes = {field: values[field] for field in SETTINGS_FIELDS if field in values}
        self.changes["reply_to"] = self.changes.get("reply_to") or ""
        self.changes["sender_name"] = self.changes.get("sender_name") or ""
        self.changes["kinds"] = {kind: kind in enabled for kind in EMAIL_KINDS}
        try:  # the API's rules, as form errors
            email_settings_clean(self.changes)
        except ValidationFailed as refusal:
            for detail in refusal.details:
                self.add_error(None, f"{detail['field']}: {detail['message']}")
        return values


@admin.register(EmailSettings)
class EmailSettingsAdmin(MerchantSettingsAdmin):
    """Saved through the same service as the API (validation, audit); previews open each email
    as the merchant's customers would get it, with sample figures."""

    form = EmailSettingsForm
    list_display = ("merchant", "sender_name", "reply_to", "send_in_test_mode", "updated_at")
    readonly_fields = ("previews",)

    update = staticmethod(email_settings_update)

    def get_fields(self, request, obj=None):
        return ["merchant", *SETTINGS_FIELDS, "enabled_kinds", "previews"]

    @admin.display(description="previews")
    def previews(self, obj):
        if obj is None or obj.pk is None:
            return "Save first to preview the emails."
        return format_html_join(
            " · ", '<a href="{}" target="_blank">{}</a> (<a href="{}" target="_blank">text</a>)',
            ((reverse("admin:billing_email_preview", args=[obj.pk, kind]), label,
              reverse("admin:billing_email_preview", args=[obj.pk, kind]) + "?format=text")
             for kind, label in EmailKind.choices))

    def get_urls(self):
        preview = self.admin_site.admin_view(self.preview_view)
        return [path("<str:merchant_id>/preview/<str:kind>/", preview,
                     name="billing_email_preview"), *super().get_urls()]

    def preview_view(self, request, merchant_id: str, kind: str):
        """One email of the merchant, rendered with sample figures (HTML, or ?format=text)."""
        own = staff_merchant_id(request)
        if (own is not None and own != merchant_id) or kind not in EMAIL_KINDS \
                or not self.has_view_permission(request):
            raise Http404
        rendered = email_preview(merchant=get_object_or_404(Merchant, pk=merchant_id),
                                 kind=kind)
        if request.GET.get("format") == "text":
            body = f"Subject: {rendered.subject}\nFrom: {rendered.from_name}\n\n{rendered.text}"
            return HttpResponse(body, content_type="text/plain; charset=utf-8")
        return HttpResponse(rendered.html)


class EmailAttemptInline(admin.TabularInline):
    model = EmailAttempt
    fields = ("number", "attempted_at", "outcome", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.action(description="Send selected failed emails again")
def send_again(modeladmin, request, queryset):
    failed = list(queryset.filter(status=EmailMessage.Status.FAILED).values_list("pk", flat=True))
    for message_id in failed:
        email_retry(message_id=message_id)
    messages.success(request, f"Queued {len(failed)} email(s) again; the next run sends them.")


@admin.register(EmailMessage)
class EmailMessageAdmin(MerchantScopedAdmin):
    list_display = ("id", "kind", "to", "status", "is_test", "attempt_count", "error",
                    "created_at", "sent_at", "environment")
    list_filter = ("status", "kind", "environment", "is_test")
    search_fields = ("id", "to", "source", "customer_id")
    date_hierarchy = "created_at"
    readonly_fields = ("id", "merchant", "environment", "kind", "source", "customer_id", "to",
                       "subject", "is_test", "status", "attempt_count", "next_attempt_at",
                       "last_error", "context", "created_at", "sent_at")
    inlines = [EmailAttemptInline]
    actions = [send_again]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="last error")
    def error(self, message):
        return format_html('<span title="{}">{}</span>', message.last_error,
                           message.last_error[:80]) if message.last_error else ""

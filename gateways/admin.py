"""Operator console: payment methods, attempts (read-only), incoming webhooks, gateway accounts.

Gateway secrets are write-only: the form never shows them (blank keeps the stored value), the
list shows only whether one is set, and history rows leave them out.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from simple_history.admin import SimpleHistoryAdmin

from cynco.admin_money import money_field
from cynco.admin_scoping import MerchantScopedAdmin
from gateways.models import GatewayAccount, PaymentAttempt, PaymentMethod, WebhookEvent
from gateways.registry import installed_gateways
from gateways.services.webhooks import webhook_process

SECRET_FIELDS = ("secret_key", "webhook_secret")


class ReadOnlyAdmin(MerchantScopedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PaymentMethod)
class PaymentMethodAdmin(MerchantScopedAdmin, SimpleHistoryAdmin):
    list_display = ("id", "customer_reference", "brand", "last4", "exp_month", "exp_year",
                    "gateway", "environment", "is_default", "status", "created_at")
    list_filter = ("environment", "gateway", "status", "is_default")
    search_fields = ("id", "customer_reference", "last4")
    readonly_fields = ("id", "merchant", "environment", "customer_reference", "gateway",
                       "gateway_account", "token", "type", "brand", "last4", "exp_month",
                       "exp_year", "created_at")

    def has_add_permission(self, request):
        return False  # payment methods are saved by gateways, never typed in


@admin.register(PaymentAttempt)
class PaymentAttemptAdmin(ReadOnlyAdmin):
    amount_money = money_field("amount")
    list_display = ("id", "kind", "amount_money", "status", "gateway", "environment",
                    "source_reference", "failure_code", "attempts_count", "created_at")
    list_filter = ("environment", "kind", "status", "gateway")
    search_fields = ("id", "idempotency_key", "source_reference", "customer_reference",
                     "provider_payment_id", "provider_refund_id")
    date_hierarchy = "created_at"


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "gateway", "event_type", "provider_event_id", "verified",
                    "processed_at", "processing_attempts", "received_at")
    list_filter = ("gateway", "verified", ("processed_at", admin.EmptyFieldListFilter))
    search_fields = ("id", "provider_event_id", "event_type")
    readonly_fields = ("raw_body",)
    exclude = ("body",)
    actions = ["reprocess"]

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="body as received")
    def raw_body(self, obj):
        return bytes(obj.body).decode("utf-8", errors="replace")

    @admin.action(description="Reprocess the selected events")
    def reprocess(self, request, queryset):
        done, failed = 0, 0
        for event in queryset.filter(verified=True):
            if event.processed_at:
                WebhookEvent.objects.filter(pk=event.pk).update(processed_at=None)
            try:
                done += webhook_process(webhook_event_id=event.pk)
            except Exception as exc:  # recorded on the event; shown here
                failed += 1
                self.message_user(request, f"{event.pk}: {exc}", messages.ERROR)
        self.message_user(request, f"Reprocessed {done} event(s); {failed} failed.")


class GatewayAccountForm(forms.ModelForm):
    gateway = forms.ChoiceField(choices=())
    secret_key = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False),
        help_text="Write-only. Leave blank to keep the stored value.",
    )
    webhook_secret = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False),
        help_text="Write-only. Leave blank to keep the stored value.",
    )

    class Meta:
        model = GatewayAccount
        fields = ("merchant", "environment", "gateway", "label", "secret_key", "webhook_secret",
                  "options", "is_active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["gateway"].choices = [(name, name) for name in installed_gateways()]
        for name in SECRET_FIELDS:
            self.initial[name] = ""

    def clean(self):
        data = super().clean()
        for name in SECRET_FIELDS:
            if not data.get(name) and self.instance.pk:
                data[name] = getattr(
                    GatewayAccount.objects.get(pk=self.instance.pk), name
                )
        return data


@admin.register(GatewayAccount)
class GatewayAccountAdmin(MerchantScopedAdmin, SimpleHistoryAdmin):
    """Operators only: which credentials a merchant+environment pays through."""

    form = GatewayAccountForm
    list_display = ("id", "merchant", "environment", "gateway", "label", "is_active",
                    "secret_key_set", "webhook_secret_set", "updated_at")
    list_filter = ("environment", "gateway", "is_active")
    search_fields = ("id", "label", "merchant__name")

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    has_add_permission = has_change_permission = has_delete_permission = (
        lambda self, request, obj=None: request.user.is_superuser
    )

    @admin.display(boolean=True, description="secret key set")
    def secret_key_set(self, obj):
        return bool(obj.secret_key)

    @admin.display(boolean=True, description="webhook secret set")
    def webhook_secret_set(self, obj):
        return bool(obj.webhook_secret)

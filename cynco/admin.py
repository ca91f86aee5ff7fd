"""Operator console for the platform records: merchants, staff, API keys."""

from django.contrib import admin, messages
from simple_history.admin import SimpleHistoryAdmin

from cynco.admin_scoping import MerchantScopedAdmin, ScopedHistory, staff_merchant_id
from cynco.keys import VISIBLE_PREFIX_LENGTH, generate_raw_key, hash_key
from cynco.merchants import api_key_revoke
from cynco.models import ApiKey, Merchant, MerchantStaff

# The console is ours, not "Django administration"; its "View site" link (labelled "API
# reference" in templates/admin/base_site.html) opens the API docs, since `/` sends staff here.
admin.site.site_header = "Cynco Billing"
admin.site.site_title = "Cynco Billing console"
admin.site.index_title = "Operator console"
admin.site.site_url = "/api/docs/"


@admin.register(Merchant)
class MerchantAdmin(ScopedHistory, SimpleHistoryAdmin):
    history_scope_field = "id"
    list_display = ("name", "id", "default_currency", "created_at")
    search_fields = ("name", "id")
    readonly_fields = ("id", "created_at")
    fieldsets = (
        (None, {"fields": ("id", "name", "default_currency", "created_at")}),
        ("Rate limits per API key (requests per second; empty: the server's default)", {
            "fields": ("rate_limit_usage_per_second", "rate_limit_api_per_second"),
        }),
    )

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:  # a merchant's staff may not raise their own limits
            fields += ["rate_limit_usage_per_second", "rate_limit_api_per_second"]
        return fields

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        merchant_id = staff_merchant_id(request)
        return queryset if merchant_id is None else queryset.filter(pk=merchant_id)

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(MerchantStaff)
class MerchantStaffAdmin(admin.ModelAdmin):
    """Who works for which merchant: superusers only (a permission granted to staff by mistake
    must not let them join another merchant)."""

    list_display = ("user", "merchant")

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(ApiKey)
class ApiKeyAdmin(MerchantScopedAdmin, SimpleHistoryAdmin):
    """Raw keys are never stored: a new key's raw value is shown once, in the success message."""

    list_display = ("name", "key_prefix", "type", "environment", "status", "last_used_at")
    list_filter = ("type", "environment", "revoked_at")
    search_fields = ("name", "key_prefix", "id")
    fields = ("merchant", "environment", "type", "name", "scopes", "key_prefix", "last_used_at",
              "revoked_at", "created_at")
    readonly_fields = ("key_prefix", "last_used_at", "revoked_at", "created_at")
    actions = ["revoke_keys"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:  # a key's identity never changes after creation
            fields += ["merchant", "environment", "type"]
        return fields

    def save_model(self, request, obj, form, change):
        raw = None
        if not change:
            raw = generate_raw_key(key_type=obj.type, environment=obj.environment)
            obj.key_prefix = raw[:VISIBLE_PREFIX_LENGTH]
            obj.key_hash = hash_key(raw)
        super().save_model(request, obj, form, change)
        if raw:
            messages.warning(request, f"New key (copy it now, it is not shown again): {raw}")

    @admin.action(description="Revoke selected keys")
    def revoke_keys(self, request, queryset):
        for key in queryset:
            api_key_revoke(merchant_id=key.merchant_id, key_id=key.pk)
        messages.success(request, f"Revoked {queryset.count()} key(s).")

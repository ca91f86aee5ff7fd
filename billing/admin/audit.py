"""The audit trail in the console: read-only, filterable."""

from django.contrib import admin

from billing.models import AuditEvent
from cynco.admin_scoping import MerchantScopedAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(MerchantScopedAdmin):
    list_display = ("created_at", "event", "actor_type", "actor_key_id", "customer_id",
                    "subscription_id", "resource_type", "resource_id", "environment")
    list_filter = ("environment", "actor_type", "event", "resource_type")
    search_fields = ("id", "customer_id", "subscription_id", "resource_id", "actor_key_id")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

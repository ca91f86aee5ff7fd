"""Customers in the admin, with their subscriptions (search by id, external id or email)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from billing.models import Customer, Subscription
from cynco.admin_money import money_field
from cynco.admin_scoping import MerchantScopedAdmin


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    fk_name = "customer"
    extra = 0
    can_delete = False
    show_change_link = True
    price_money = money_field("price.amount", currency="price.currency", description="price")
    fields = ("product", "product_version", "price_money", "status", "current_period_start",
              "current_period_end", "cancel_at_period_end", "quantity")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product", "product_version",
                                                            "product_version__product", "price")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(MerchantScopedAdmin, SimpleHistoryAdmin):
    list_display = ("external_id", "email", "name", "id", "environment", "created_at",
                    "deleted_at")
    list_filter = ("environment", ("deleted_at", admin.EmptyFieldListFilter))
    search_fields = ("id", "external_id", "email", "name")
    readonly_fields = ("id", "merchant", "environment", "external_id", "created_at",
                       "updated_at", "deleted_at")
    fields = readonly_fields[:4] + ("name", "email", "metadata") + readonly_fields[4:]
    inlines = [SubscriptionInline]

    def has_add_permission(self, request):
        return False  # customers come from the API (get-or-create on login)


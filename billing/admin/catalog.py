"""Catalog in the admin: products with their prices, feature grants and versions.

Definitions are versioned, so prices, grants and versions are shown read-only here: a change
of what is sold goes through `POST /products`, which makes a new version and leaves
subscribers on theirs. Staff may edit a product's metadata and status.
"""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from billing.models import Feature, FeatureGrant, Price, Product, ProductVersion
from cynco.admin_money import money_field
from cynco.admin_scoping import MerchantScopedAdmin


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PriceInline(ReadOnlyInline):
    model = Price
    amount_money = money_field("amount", description="amount")
    setup_fee_money = money_field("setup_fee", description="setup fee")
    fields = ("version", "name", "type", "amount_money", "billing_interval",
              "billing_interval_count", "trial_days", "setup_fee_money", "tiers_mode", "tiers")
    readonly_fields = fields
    ordering = ("-version__version", "position")


class FeatureGrantInline(ReadOnlyInline):
    model = FeatureGrant
    fields = ("version", "feature", "allowance_type", "allowance", "overage_allowed",
              "overage_price", "reset_interval", "per_entity")
    ordering = ("-version__version", "position")


class VersionInline(ReadOnlyInline):
    model = ProductVersion
    fields = ("version", "id", "created_at", "definition_hash")
    readonly_fields = fields
    ordering = ("-version",)


@admin.register(Product)
class ProductAdmin(MerchantScopedAdmin, SimpleHistoryAdmin):
    list_display = ("name", "slug", "group_slug", "is_default", "is_add_on", "sort_order",
                    "status", "current_version", "environment", "merchant")
    list_filter = ("environment", "status", "is_default", "is_add_on", "group_slug")
    search_fields = ("name", "slug", "id")
    readonly_fields = ("id", "merchant", "environment", "slug", "name", "description",
                       "group_slug", "is_add_on", "is_default", "sort_order", "latest_version",
                       "created_at", "updated_at")
    fields = readonly_fields[:-2] + ("status", "metadata") + readonly_fields[-2:]
    inlines = [VersionInline, PriceInline, FeatureGrantInline]

    @admin.display(description="version")
    def current_version(self, product):
        return product.latest_version.version if product.latest_version else None

    def has_add_permission(self, request):
        return False


@admin.register(ProductVersion)
class ProductVersionAdmin(MerchantScopedAdmin, SimpleHistoryAdmin):
    list_display = ("product", "version", "id", "created_at")
    list_filter = ("environment",)
    search_fields = ("id", "product__slug")
    readonly_fields = ("id", "merchant", "environment", "product", "version", "definition",
                       "definition_hash", "created_at")
    inlines = [PriceInline, FeatureGrantInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Feature)
class FeatureAdmin(MerchantScopedAdmin, SimpleHistoryAdmin):
    list_display = ("slug", "name", "type", "environment", "merchant")
    list_filter = ("environment", "type")
    search_fields = ("slug", "name")
    readonly_fields = ("id", "merchant", "environment", "slug", "type", "created_at")

    def has_add_permission(self, request):
        return False

"""Coupons (with their redemptions) and referral rewards in the console.

Coupons are created through the API; in the console staff change a coupon's name, status,
limits, end date and metadata, which goes through `coupon_update` (so the limit is checked
against redemptions made and the change is audited). Rewards and what they gave are read-only.
"""

from __future__ import annotations

from django.contrib import admin, messages

from billing.models import (
    Coupon,
    CouponRedemption,
    CustomerCredit,
    FreeProductGrant,
    ReferralCode,
    ReferralRedemption,
    RewardProgram,
)
from billing.services.audit import SYSTEM
from billing.services.coupons import coupon_archive, coupon_update
from billing.services.rewards import reward_program_archive
from cynco.admin_money import money_field
from cynco.admin_scoping import MerchantScopedAdmin
from cynco.errors import ApiError
from cynco.tenancy import Scope

COUPON_EDITABLE = ("name", "status", "max_redemptions", "max_redemptions_per_customer",
                   "valid_until", "metadata")


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False


class CouponRedemptionInline(ReadOnlyInline):
    model = CouponRedemption
    fields = ("customer", "subscription_id", "amount", "discount_amount", "cycle_limit",
              "cycles_applied", "amount_discounted", "created_at")


@admin.action(description="Archive selected coupons")
def archive_coupons(modeladmin, request, coupons):
    for coupon in coupons:
        coupon_archive(scope=Scope(coupon.merchant_id, coupon.environment),
                       coupon_id=coupon.pk, actor=SYSTEM)
    messages.success(request, f"Archived {len(coupons)} coupon(s).")


@admin.register(Coupon)
class CouponAdmin(MerchantScopedAdmin):
    list_display = ("code", "name", "type", "value", "duration", "times_redeemed",
                    "max_redemptions", "status", "environment", "created_at")
    list_filter = ("environment", "status", "type", "duration")
    search_fields = ("id", "code", "name")
    fields = ("id", "merchant", "environment", "code", "type", "value", "duration",
              "duration_months", "minimum_amount", "products", "customer", "valid_from",
              "times_redeemed", "created_at", "updated_at", *COUPON_EDITABLE)
    readonly_fields = tuple(f for f in fields if f not in COUPON_EDITABLE)
    inlines = [CouponRedemptionInline]
    actions = [archive_coupons]

    def has_add_permission(self, request):
        return False  # created through the API, where the code's rules are checked

    def has_delete_permission(self, request, obj=None):
        return False  # archive instead: redemptions keep pointing at the coupon

    def save_model(self, request, obj, form, change):
        try:
            coupon_update(
                scope=Scope(obj.merchant_id, obj.environment), coupon_id=obj.pk, actor=SYSTEM,
                **{name: form.cleaned_data[name] for name in form.changed_data
                   if name in COUPON_EDITABLE},
            )
        except ApiError as refusal:
            messages.error(request, f"Not saved: {refusal.message}")


class ReferralCodeInline(ReadOnlyInline):
    model = ReferralCode
    fields = ("code", "customer", "times_redeemed", "max_redemptions", "expires_at",
              "created_at")


@admin.action(description="Archive selected programs")
def archive_programs(modeladmin, request, programs):
    for program in programs:
        reward_program_archive(scope=Scope(program.merchant_id, program.environment),
                               program_id=program.pk, actor=SYSTEM)
    messages.success(request, f"Archived {len(programs)} program(s).")


class ReadOnlyAdmin(MerchantScopedAdmin):
    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        pass  # nothing here is edited by hand


@admin.register(RewardProgram)
class RewardProgramAdmin(ReadOnlyAdmin):
    list_display = ("name", "reward_type", "reward_value", "currency", "times_redeemed",
                    "max_redemptions", "max_per_referrer", "status", "environment")
    list_filter = ("environment", "status", "reward_type")
    search_fields = ("id", "name")
    inlines = [ReferralCodeInline]
    actions = [archive_programs]


@admin.register(ReferralRedemption)
class ReferralRedemptionAdmin(ReadOnlyAdmin):
    list_display = ("id", "program", "referral_code", "referrer", "referee", "created_at",
                    "environment")
    list_filter = ("environment",)
    search_fields = ("id", "referral_code__code", "referrer__external_id",
                     "referee__external_id")


@admin.register(CustomerCredit)
class CustomerCreditAdmin(ReadOnlyAdmin):
    amount_money = money_field("amount")
    remaining_money = money_field("remaining")
    list_display = ("id", "customer", "amount_money", "remaining_money", "source",
                    "created_at", "environment")
    list_filter = ("environment", "source", "currency")
    search_fields = ("id", "customer__external_id", "source_id")


@admin.register(FreeProductGrant)
class FreeProductGrantAdmin(ReadOnlyAdmin):
    list_display = ("id", "customer", "product", "periods", "status", "created_at",
                    "environment")
    list_filter = ("environment", "status")
    search_fields = ("id", "customer__external_id", "source_id")

"""Unapplied payments in the console: money that landed after its purpose was gone. Those whose
refund failed (held as customer credit) need an operator: the `Needs attention` filter."""

from __future__ import annotations

from django.contrib import admin

from billing.admin.coupons import ReadOnlyAdmin
from billing.models import UnappliedPayment


class NeedsAttention(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("yes", "Needs attention (refund failed, held as credit)")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status=UnappliedPayment.Status.HELD)
        return queryset


@admin.register(UnappliedPayment)
class UnappliedPaymentAdmin(ReadOnlyAdmin):
    list_display = ("id", "customer", "amount", "currency", "gateway", "provider_payment_id",
                    "status", "reason", "failure_message", "created_at", "environment")
    list_filter = (NeedsAttention, "environment", "status", "gateway", "currency")
    search_fields = ("id", "customer__external_id", "provider_payment_id", "checkout__id")

"""Subscriptions in the console: filters, search, their invoices, history, and the actions an
operator needs (cancel at period end, cancel now with the refund the service computes, undo a
scheduled cancellation), each calling the same service as the API."""

from __future__ import annotations

from django.contrib import admin

from billing.admin.money_actions import ServiceOnlyAdmin, run_for_each
from billing.models import Invoice, Subscription
from billing.services.audit import SYSTEM
from billing.services.subscription_updates import UpdateRequest, subscription_update
from cynco import clock
from cynco.admin_money import money_field
from cynco.money import format_money


class InvoiceInline(admin.TabularInline):
    model = Invoice
    fk_name = "subscription"
    extra = 0
    can_delete = False
    show_change_link = True
    total_money = money_field("total")
    amount_due_money = money_field("amount_due", description="amount due")
    fields = ("number", "status", "reason", "total_money", "amount_due_money", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


def _update(cancel_action: str):
    def change(scope, subscription):
        subscription_update(
            scope=scope, customer=subscription.customer, product=subscription.product,
            request=UpdateRequest(cancel_action=cancel_action), at=clock.now(scope),
            actor=SYSTEM,
        )

    return change


@admin.action(description="Cancel at period end", permissions=["change"])
def cancel_at_period_end(modeladmin, request, rows):
    run_for_each(request, rows, "Set to cancel at period end", _update("cancel_end_of_cycle"))


@admin.action(description="Cancel now (refund the unused part)", permissions=["change"])
def cancel_now(modeladmin, request, rows):
    run_for_each(request, rows, "Canceled now", _update("cancel_immediately"))


@admin.action(description="Undo a scheduled cancellation", permissions=["change"])
def uncancel(modeladmin, request, rows):
    run_for_each(request, rows, "Cancellation undone", _update("uncancel"))


@admin.register(Subscription)
class SubscriptionAdmin(ServiceOnlyAdmin):
    list_display = ("id", "customer", "product", "status", "amount", "current_period_start",
                    "current_period_end", "cancel_at_period_end", "environment")
    list_filter = ("status", ("product", admin.RelatedOnlyFieldListFilter), "environment",
                   "cancel_at_period_end", "current_period_end", "created_at")
    list_select_related = ("customer", "product", "price")
    search_fields = ("id", "customer__external_id", "customer__email", "product__slug")
    date_hierarchy = "created_at"
    inlines = [InvoiceInline]
    actions = [cancel_at_period_end, cancel_now, uncancel]

    @admin.display(description="price")
    def amount(self, subscription):
        price = subscription.price
        if price is None or price.amount is None:
            return "free"
        return f"{format_money(price.amount, price.currency)} × {subscription.quantity}"

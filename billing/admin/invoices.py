"""Invoices in the console: filters, search by number or customer, their lines, history, and
the two changes an operator may make to an open invoice (void, mark uncollectible), through the
services that post them to the ledger; credit notes, read-only. Money fields are never
editable."""

from __future__ import annotations

from django.contrib import admin

from billing.admin.coupons import ReadOnlyAdmin, ReadOnlyInline
from billing.admin.money_actions import ServiceOnlyAdmin, run_for_each
from billing.models import CreditNote, CreditNoteLine, Invoice, InvoiceLine
from billing.services.audit import SYSTEM
from billing.services.invoice_changes import open_invoice_void, open_invoice_write_off
from cynco.admin_money import money_field, quantity_field


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    can_delete = False
    quantity_shown = quantity_field("quantity")
    unit_amount_money = money_field("unit_amount", currency="invoice.currency",
                                    description="unit amount")
    amount_money = money_field("amount", currency="invoice.currency")
    fields = ("position", "type", "description", "quantity_shown", "unit_amount_money",
              "amount_money", "period_start", "period_end")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.action(description="Void selected open invoices", permissions=["change"])
def void_invoices(modeladmin, request, rows):
    run_for_each(request, rows, "Voided", lambda scope, invoice: open_invoice_void(
        scope=scope, invoice_id=invoice.pk, actor=SYSTEM))


@admin.action(description="Mark selected open invoices uncollectible", permissions=["change"])
def mark_uncollectible(modeladmin, request, rows):
    run_for_each(request, rows, "Marked uncollectible", lambda scope, invoice:
                 open_invoice_write_off(scope=scope, invoice_id=invoice.pk, actor=SYSTEM))


@admin.register(Invoice)
class InvoiceAdmin(ServiceOnlyAdmin):
    list_display = ("__str__", "customer", "status", "reason", "total_money",
                    "amount_due_money", "created_at", "environment")
    list_filter = ("status", "reason", ("subscription__product", admin.RelatedOnlyFieldListFilter),
                   "environment", "currency", "created_at", "paid_at")
    list_select_related = ("customer",)
    search_fields = ("number", "id", "customer__external_id", "customer__email")
    date_hierarchy = "created_at"
    inlines = [InvoiceLineInline]
    actions = [void_invoices, mark_uncollectible]

    subtotal_money = money_field("subtotal")
    discount_amount_money = money_field("discount_amount", description="discount")
    tax_amount_money = money_field("tax_amount", description="tax")
    total_money = money_field("total")
    amount_paid_money = money_field("amount_paid", description="amount paid")
    amount_due_money = money_field("amount_due", description="amount due")
    fields = ("id", "number", "merchant", "environment", "customer", "subscription", "status",
              "reason", "currency", "subtotal_money", "discount_amount_money", "tax_amount_money",
              "total_money", "amount_paid_money", "amount_due_money", "period_start",
              "period_end", "created_at", "due_at", "paid_at", "voided_at", "payment_gateway",
              "payment_attempt_id")

    def get_readonly_fields(self, request, obj=None):
        return self.fields


class CreditNoteLineInline(ReadOnlyInline):
    model = CreditNoteLine
    amount_money = money_field("amount", currency="credit_note.currency", description="amount")
    fields = ("position", "type", "description", "amount_money")


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdmin):
    """Credit notes are issued by the refund, credit and write-off services only: read-only,
    with the invoice they credit and the journal entry they were posted as."""

    subtotal_money = money_field("subtotal")
    tax_amount_money = money_field("tax_amount", description="tax given back")
    total_money = money_field("total")
    list_display = ("__str__", "type", "customer", "invoice", "total_money", "tax_amount_money",
                    "created_at", "environment")
    list_filter = ("type", "environment", "currency", "created_at")
    list_select_related = ("customer", "invoice")
    search_fields = ("number", "id", "invoice__number", "customer__external_id",
                     "journal_entry_id")
    date_hierarchy = "created_at"
    inlines = [CreditNoteLineInline]
    fields = ("id", "number", "type", "merchant", "environment", "customer", "invoice", "refund",
              "currency", "subtotal_money", "tax_amount_money", "total_money", "reason",
              "journal_entry_id", "created_at")

    def get_readonly_fields(self, request, obj=None):
        return self.fields

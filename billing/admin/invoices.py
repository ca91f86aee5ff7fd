"""Invoices in the console: filters, search by number or customer, their lines, history, and
the two changes an operator may make to an open invoice (void, mark uncollectible), through the
services that post them to the ledger; credit notes, read-only. Money fields are never
editable."""

from __future__ import annotations

from django.contrib import admin

from billing.admin.coupons import ReadOnlyAdmin, ReadOnlyInline
from billing.admin.money_actions import ServiceOnlyAdmin, run_for_each
from billing.models import CreditNote, CreditNoteLine, Invoice, InvoiceLine
from cynco.money import format_money
from billing.services.audit import SYSTEM
from billing.services.invoice_changes import open_invoice_void, open_invoice_write_off


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    can_delete = False
    fields = ("position", "type", "description", "quantity", "unit_amount", "amount",
              "period_start", "period_end")
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
    list_display = ("__str__", "customer", "status", "reason", "total_display",
                    "due_display", "created_at", "environment")
    list_filter = ("status", "reason", ("subscription__product", admin.RelatedOnlyFieldListFilter),
                   "environment", "currency", "created_at", "paid_at")
    list_select_related = ("customer",)
    search_fields = ("number", "id", "customer__external_id", "customer__email")
    date_hierarchy = "created_at"
    inlines = [InvoiceLineInline]
    actions = [void_invoices, mark_uncollectible]

    @admin.display(description="total", ordering="total")
    def total_display(self, invoice):
        return format_money(invoice.total, invoice.currency)

    @admin.display(description="amount due", ordering="amount_due")
    def due_display(self, invoice):
        return format_money(invoice.amount_due, invoice.currency)


class CreditNoteLineInline(ReadOnlyInline):
    model = CreditNoteLine
    fields = ("position", "type", "description", "amount")


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdmin):
    """Credit notes are issued by the refund, credit and write-off services only: read-only,
    with the invoice they credit and the journal entry they were posted as."""

    list_display = ("__str__", "type", "customer", "invoice", "total_display", "tax_display",
                    "created_at", "environment")
    list_filter = ("type", "environment", "currency", "created_at")
    list_select_related = ("customer", "invoice")
    search_fields = ("number", "id", "invoice__number", "customer__external_id",
                     "journal_entry_id")
    date_hierarchy = "created_at"
    inlines = [CreditNoteLineInline]

    @admin.display(description="total", ordering="total")
    def total_display(self, note):
        return format_money(note.total, note.currency)

    @admin.display(description="tax given back", ordering="tax_amount")
    def tax_display(self, note):
        return format_money(note.tax_amount, note.currency)

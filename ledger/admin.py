"""The ledger in the operator console: read-only chart, entries with lines, trial balance page.

Nothing here writes: entries come only from the posting rules, and corrections are reversing
entries posted by billing's services.
"""

from __future__ import annotations

from datetime import date

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path

from cynco import clock
from cynco.admin_money import money_field
from cynco.admin_scoping import MerchantScopedAdmin, report_choice
from cynco.models import Environment
from cynco.tenancy import Scope
from ledger.models import Account, JournalEntry, JournalLine, ReconciliationRun
from ledger.selectors.statements import trial_balance


class ReadOnly:
    """For admins and inlines of ledger records: viewing only."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(ReadOnly, MerchantScopedAdmin):
    list_display = ("code", "name", "type", "normal_balance", "parent", "environment", "merchant")
    list_filter = ("environment", "type")
    search_fields = ("code", "name")
    change_list_template = "admin/ledger/account_change_list.html"

    def get_urls(self):
        page = self.admin_site.admin_view(self.trial_balance_view)
        return [path("trial-balance/", page, name="ledger_trial_balance"), *super().get_urls()]

    def trial_balance_view(self, request):
        """Trial balance of one merchant environment as of a date (read-only)."""
        merchants, merchant, environment = report_choice(
            request, has_data=lambda scope: JournalEntry.objects.for_scope(scope).exists())
        report, as_of, error = None, None, ""
        raw_as_of = request.GET.get("asOf") or ""
        try:
            as_of = date.fromisoformat(raw_as_of) if raw_as_of else None
        except ValueError:
            error = "asOf must be a date (YYYY-MM-DD); showing today."
        if merchant is not None:
            scope = Scope(merchant.pk, environment)
            as_of = as_of or clock.now(scope).date()
            report = trial_balance(scope=scope, as_of=as_of)
        context = {
            **self.admin_site.each_context(request),
            "title": "Trial balance",
            "opts": self.model._meta,
            "merchants": merchants,
            "merchant": merchant,
            "environments": Environment.values,
            "environment": environment,
            "as_of": as_of,
            "report": report,
            "error": error,
        }
        return TemplateResponse(request, "admin/ledger/trial_balance.html", context)


class JournalLineInline(ReadOnly, admin.TabularInline):
    model = JournalLine
    debit_money = money_field("debit")
    credit_money = money_field("credit")
    fields = ("account", "debit_money", "credit_money")
    readonly_fields = fields
    extra = 0


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnly, MerchantScopedAdmin):
    list_display = ("date", "kind", "source_type", "source_id", "memo", "environment", "merchant")
    list_filter = ("environment", "kind", "source_type", "date")
    search_fields = ("id", "source_id", "invoice_id", "memo")
    date_hierarchy = "date"
    inlines = [JournalLineInline]
    fields = ("id", "merchant", "environment", "date", "memo", "kind", "source_type", "source_id",
              "invoice_id", "reversal_of", "posted_at")
    readonly_fields = fields


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnly, admin.ModelAdmin):
    """Runs cover every merchant, so only superusers see them."""

    list_display = ("started_at", "ok", "checks", "differences", "finished_at")
    list_filter = ("ok",)
    fields = ("id", "started_at", "finished_at", "ok", "checks", "differences", "rows")
    readonly_fields = fields

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

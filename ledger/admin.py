"""The ledger in the operator console: read-only chart, entries with lines, trial balance page.

Nothing here writes entries: they come only from the posting rules, and corrections are
reversing entries posted by billing's services. The books page closes the last month that is
over (any operator of the merchant) and reopens the last closed month (superusers only, with a
reason); both are recorded as period events (docs/accounting.md, "Closing a month").
"""

from __future__ import annotations

from datetime import date

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import path

from cynco import clock
from cynco.admin_money import money_field
from cynco.errors import ApiError
from cynco.admin_scoping import MerchantScopedAdmin, report_choice
from cynco.models import Environment
from cynco.tenancy import Scope
from ledger.models import Account, Books, JournalEntry, JournalLine, PeriodEvent, ReconciliationRun
from ledger.services.periods import period_close, period_reopen
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


@admin.register(Books)
class BooksAdmin(ReadOnly, MerchantScopedAdmin):
    list_display = ("merchant", "environment", "opened_on", "closed_through")
    list_filter = ("environment",)
    fields = ("id", "merchant", "environment", "opened_on", "closed_through")
    readonly_fields = fields
    actions = ["close_last_month", "reopen_last_closed_month"]

    @admin.action(description="Close the last month that is over")
    def close_last_month(self, request, queryset):
        for books in queryset:
            scope = Scope(books.merchant_id, books.environment)
            month = clock.now(scope).date().replace(day=1)
            last_month = date.fromordinal(month.toordinal() - 1).replace(day=1)
            try:
                closed = period_close(scope=scope, month=last_month, by=request.user.username)
            except ApiError as exc:
                self.message_user(request, f"{books.merchant_id} {books.environment}: {exc}",
                                  messages.ERROR)
                continue
            self.message_user(request, f"{books.merchant_id} {books.environment}: closed "
                                       f"through {closed.closed_through}")

    @admin.action(description="Reopen the last closed month (superuser; give a reason)",
                  permissions=["reopen"])
    def reopen_last_closed_month(self, request, queryset):
        reason = request.POST.get("reason", "") or "reopened from the operator console"
        for books in queryset:
            scope = Scope(books.merchant_id, books.environment)
            try:
                opened = period_reopen(scope=scope, user=request.user, reason=reason)
            except ApiError as exc:
                self.message_user(request, f"{books.merchant_id} {books.environment}: {exc}",
                                  messages.ERROR)
                continue
            self.message_user(request, f"{books.merchant_id} {books.environment}: now closed "
                                       f"through {opened.closed_through or 'nothing'}")

    def has_reopen_permission(self, request):
        return request.user.is_superuser


@admin.register(PeriodEvent)
class PeriodEventAdmin(ReadOnly, MerchantScopedAdmin):
    list_display = ("at", "action", "month", "by", "reason", "environment", "merchant")
    list_filter = ("action", "environment")
    fields = ("id", "merchant", "environment", "action", "month", "closed_through_before",
              "closed_through_after", "by", "reason", "at")
    readonly_fields = fields

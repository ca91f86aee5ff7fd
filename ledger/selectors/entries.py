"""Accounts with balances and journal entries, as the API and the admin show them."""

from __future__ import annotations

from datetime import date as Date

from django.db.models import Prefetch, QuerySet

from cynco.errors import NotFound
from cynco.tenancy import Scope
from ledger.models import JournalEntry, JournalLine
from ledger.selectors.balances import balances_by_account, chart, movements


def accounts_with_balances(*, scope: Scope) -> list[dict]:
    """The chart of accounts, each with its balance per currency (normal side up)."""
    accounts = chart(scope)
    balances = balances_by_account(accounts, movements(scope))
    return [
        {
            "code": account.code,
            "name": account.name,
            "type": account.type,
            "normalBalance": account.normal_balance,
            "parentCode": account.parent.code if account.parent else None,
            "balances": dict(sorted(balances[account.pk].items())),
        }
        for account in accounts
    ]


def journal_entries(
    *,
    scope: Scope,
    since: Date | None = None,
    until: Date | None = None,
    source_type: str | None = None,
    source_id: str | None = None,
) -> QuerySet:
    """Entries newest first, with their lines and accounts, optionally by date and source."""
    entries = JournalEntry.objects.for_scope(scope).prefetch_related(
        Prefetch("lines", queryset=JournalLine.objects.select_related("account").order_by("id"))
    )
    if since is not None:
        entries = entries.filter(date__gte=since)
    if until is not None:
        entries = entries.filter(date__lte=until)
    if source_type:
        entries = entries.filter(source_type=source_type)
    if source_id:
        entries = entries.filter(source_id=source_id)
    return entries.order_by("-date", "-id")


def journal_entry(*, scope: Scope, entry_id: str) -> JournalEntry:
    entry = journal_entries(scope=scope).filter(pk=entry_id).first()
    if entry is None:
        raise NotFound("Journal entry not found")
    return entry

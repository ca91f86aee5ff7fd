"""`GET accounts`, `GET journal-entries`, `GET journal-entries/{id}` (secret keys only)."""

from __future__ import annotations

from cynco.api.schema import PageOf, openapi
from cynco.api.views import ApiView
from cynco.responses import ok, page_of, paginated
from ledger.api.queries import EntriesQuery, parsed
from ledger.api.shapes import AccountShape, JournalEntryShape
from ledger.models import JournalEntry
from ledger.selectors.entries import accounts_with_balances, journal_entries, journal_entry


def entry_data(entry: JournalEntry) -> dict:
    """An entry on the wire (API.md, Beyond the client), plus its kind, invoice and post time."""
    return {
        "id": entry.pk,
        "date": entry.date,
        "memo": entry.memo,
        "kind": entry.kind,
        "source": {"type": entry.source_type, "id": entry.source_id},
        "invoiceId": entry.invoice_id or None,
        "reversalOf": entry.reversal_of_id,
        "postedAt": entry.posted_at,
        "lines": [
            {
                "accountCode": line.account.code,
                "accountName": line.account.name,
                "debit": line.debit,
                "credit": line.credit,
                "currency": line.currency,
            }
            for line in sorted(entry.lines.all(), key=_debits_first)
        ],
    }


def _debits_first(line) -> tuple:
    """Lines as an accountant writes them: debits, then credits, each by account code."""
    return (line.debit == 0, line.account.code)


class AccountsView(ApiView):
    @openapi("ledger_accounts_list", summary="Chart of accounts with balances",
             data=PageOf(AccountShape))
    def get(self, request):
        page = page_of(request)
        accounts = accounts_with_balances(scope=self.scope)
        return paginated(
            accounts[page.offset : page.offset + page.limit], total=len(accounts), page=page
        )


class JournalEntriesView(ApiView):
    @openapi("ledger_journal_entries_list", summary="Journal entries, newest first",
             query=EntriesQuery, data=PageOf(JournalEntryShape))
    def get(self, request):
        page = page_of(request)
        query = parsed(EntriesQuery, request)
        since, until = query.get("period", (None, None))
        source_type, source_id = query.get("source", (None, None))
        entries = journal_entries(
            scope=self.scope, since=since, until=until, source_type=source_type,
            source_id=source_id,
        )
        return paginated(
            [entry_data(entry) for entry in page.slice(entries)], total=entries.count(), page=page
        )


class JournalEntryView(ApiView):
    @openapi("ledger_journal_entry_get", summary="One journal entry with its lines",
             data=JournalEntryShape, errors=(404,))
    def get(self, request, entry_id: str):
        return ok(entry_data(journal_entry(scope=self.scope, entry_id=entry_id)))

"""Reading the books in tests the way an accountant writes them: ("DR", "1200", 2000)."""

from __future__ import annotations

from django.db import connection

from ledger.models import JournalEntry


def postings(entry: JournalEntry) -> list[tuple[str, str, int]]:
    """The lines of an entry as (DR|CR, account code, amount), debits first, in code order."""
    lines = entry.lines.select_related("account")
    rows = [
        ("DR", line.account.code, line.debit) if line.debit else ("CR", line.account.code, line.credit)
        for line in lines
    ]
    return sorted(rows, key=lambda row: (row[0] != "DR", row[1]))


def close_the_books() -> None:
    """Run the deferred constraint triggers now, as a commit would (tests run in a transaction)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")

"""Reading what money did in subscription scenarios: ledger postings, the trial balance,
emitted events and audit rows, through the API where a merchant would read them."""

from __future__ import annotations

import json

from billing.models import AuditEvent, OutgoingEvent
from ledger.models import JournalEntry
from tests.factories import data_of
from tests.ledger.accounting import postings

LEDGER = "/api/v1/ledger"


def entries(kind: str) -> list[list[tuple[str, str, int]]]:
    """Postings of every entry of `kind`, oldest first."""
    return [postings(entry) for entry in JournalEntry.objects.filter(kind=kind).order_by(
        "posted_at", "id")]


def balances(api, currency: str = "MYR") -> dict[str, int]:
    """The trial balance (today's business date) in `currency` as {account: debit - credit};
    asserts it balances."""
    report = data_of(api.get(f"{LEDGER}/reports/trial-balance"))["currencies"].get(
        currency, {"rows": [], "totalDebit": 0, "totalCredit": 0})
    assert report["totalDebit"] == report["totalCredit"]
    return {row["accountCode"]: row["debit"] - row["credit"] for row in report["rows"]}


def event_types() -> list[str]:
    return list(OutgoingEvent.objects.order_by("created_at", "id").values_list("type", flat=True))


def event_data(type: str) -> list[dict]:
    return [json.loads(event.payload)["data"]
            for event in OutgoingEvent.objects.filter(type=type).order_by("created_at", "id")]


def audited(event: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event=event))

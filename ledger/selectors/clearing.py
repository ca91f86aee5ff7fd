"""Money through each gateway's clearing account (1100-<gateway>), line by line, for comparing
the books with a gateway's own records (reconciliation)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date as Date
from datetime import datetime

from cynco.tenancy import Scope
from ledger import chart_of_accounts as chart
from ledger.models import EntryKind, JournalLine


@dataclass(frozen=True)
class ClearingMovement:
    """One clearing line: `amount` is signed, money in (a payment) positive, out negative.

    `source_id` is what the entry was posted for (its source, or for a reversal the source of
    the entry it reverses, so a reversal cancels what it reverses); `posted_at` is when it was
    posted (wall clock), `date` its business date.
    """

    gateway: str
    kind: str
    source_type: str
    source_id: str
    invoice_id: str
    amount: int
    currency: str
    date: Date
    posted_at: datetime
    entry_id: str


def clearing_movements(
    *, scope: Scope, posted_from: datetime | None = None, posted_to: datetime | None = None,
    source_ids: Iterable[str] | None = None, exclude_kinds: Iterable[str] = (EntryKind.GATEWAY_FEE,),
) -> list[ClearingMovement]:
    """The clearing lines of `scope` posted in [posted_from, posted_to), or of entries for
    `source_ids` whenever posted; gateway fees left out unless asked for."""
    lines = JournalLine.objects.for_scope(scope).filter(
        account__code__startswith=f"{chart.CLEARING}-").exclude(entry__kind__in=list(
            exclude_kinds)).select_related("account", "entry", "entry__reversal_of")
    if posted_from is not None:
        lines = lines.filter(entry__posted_at__gte=posted_from)
    if posted_to is not None:
        lines = lines.filter(entry__posted_at__lt=posted_to)
    if source_ids is not None:
        wanted = list(source_ids)
        lines = lines.filter(entry__source_id__in=wanted) | lines.filter(
            entry__reversal_of__source_id__in=wanted)
    found = []
    for line in lines.order_by("entry__posted_at", "id"):
        entry = line.entry
        origin = entry.reversal_of if entry.reversal_of_id else entry
        if origin.kind in exclude_kinds:
            continue
        found.append(ClearingMovement(
            gateway=line.account.code.removeprefix(f"{chart.CLEARING}-"), kind=origin.kind,
            source_type=origin.source_type, source_id=origin.source_id,
            invoice_id=entry.invoice_id, amount=line.debit - line.credit, currency=line.currency,
            date=entry.date, posted_at=entry.posted_at, entry_id=entry.id,
        ))
    return found

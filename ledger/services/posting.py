"""Posting a balanced journal entry, once per (source, kind). The posting rules call this."""

from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date as Date

from django.db import IntegrityError, transaction

from cynco.tenancy import Scope
from ledger.chart_of_accounts import CLEARING
from ledger.models import Account, EntryKind, JournalEntry, JournalLine, SourceType
from ledger.services.chart import open_clearing_account
from ledger.services.periods import first_open_day

CURRENCY = re.compile(r"^[A-Z]{3}$")
ONCE_PER_SOURCE_KIND = "ledger_entry_once_per_source_kind"


class PostingError(ValueError):
    """A posting rule was called with values that cannot make a balanced entry (a bug upstream)."""


@dataclass(frozen=True)
class Line:
    """One line to post: a debit or a credit of `account_code`, in minor units of `currency`."""

    account_code: str
    currency: str
    debit: int = 0
    credit: int = 0


def debit(account_code: str, amount: int, currency: str) -> Line:
    return Line(account_code, currency, debit=amount)


def credit(account_code: str, amount: int, currency: str) -> Line:
    return Line(account_code, currency, credit=amount)


def minor_units(name: str, value, *, positive: bool = False) -> int:
    """`value` if it is an integer amount of minor units (> 0 when `positive`, else >= 0)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < (1 if positive else 0):
        kind = "a positive" if positive else "a non-negative"
        raise PostingError(f"{name} must be {kind} integer of minor units, got {value!r}")
    return value


def existing_entry(*, scope: Scope, source_type: str, source_id: str, kind: str):
    """The entry already posted for (source, kind), or None."""
    return (
        JournalEntry.objects.for_scope(scope)
        .filter(source_type=source_type, source_id=source_id, kind=kind)
        .first()
    )


def post_entry(
    *,
    scope: Scope,
    source_type: str,
    source_id: str,
    kind: str,
    date: Date,
    lines: list[Line],
    memo: str = "",
    invoice_id: str = "",
    reversal_of: JournalEntry | None = None,
) -> JournalEntry:
    """Post one balanced entry for (source, kind), or return the one already posted for it.

    Runs inside the caller's business transaction (a savepoint of it), so the entry commits or
    rolls back with the event that caused it. Takes no lock of its own: the unique constraint on
    (merchant, environment, source type, source id, kind) makes a concurrent second posting wait
    for the first and then return the first's entry. Lines of zero are left out. The database
    checks the balance again at commit. An event dated in a closed month (a late webhook, a
    correction) is posted on the first day of the open period (docs/accounting.md).
    """
    _check(source_type, source_id, kind, lines)
    lines = [line for line in lines if line.debit or line.credit]
    opens = first_open_day(scope)
    if opens is not None and date < opens:
        date = opens
    batch = _batch.get()
    if batch is not None and batch.scope == scope:
        return batch.add(JournalEntry(
            merchant_id=scope.merchant_id, environment=scope.environment, date=date,
            memo=memo[:500], source_type=source_type, source_id=source_id, kind=kind,
            invoice_id=invoice_id, reversal_of=reversal_of,
        ), lines)
    with transaction.atomic():
        found = existing_entry(scope=scope, source_type=source_type, source_id=source_id, kind=kind)
        if found is not None:
            return found
        accounts = _accounts(scope, {line.account_code for line in lines})
        try:
            with transaction.atomic():
                entry = JournalEntry.objects.create(
                    merchant_id=scope.merchant_id,
                    environment=scope.environment,
                    date=date,
                    memo=memo[:500],
                    source_type=source_type,
                    source_id=source_id,
                    kind=kind,
                    invoice_id=invoice_id,
                    reversal_of=reversal_of,
                )
        except IntegrityError as exc:
            if _constraint_of(exc) != ONCE_PER_SOURCE_KIND:
                raise
            # Another transaction posted it first and has committed: that entry stands.
            return existing_entry(
                scope=scope, source_type=source_type, source_id=source_id, kind=kind
            )
        JournalLine.objects.bulk_create(
            JournalLine(
                merchant_id=scope.merchant_id,
                environment=scope.environment,
                entry=entry,
                account=accounts[line.account_code],
                debit=line.debit,
                credit=line.credit,
                currency=line.currency,
            )
            for line in lines
        )
    return entry


@dataclass
class _Batch:
    scope: Scope
    entries: dict[tuple[str, str, str], tuple[JournalEntry, list[Line]]] = field(
        default_factory=dict)

    def add(self, entry: JournalEntry, lines: list[Line]) -> JournalEntry:
        key = (entry.source_type, entry.source_id, entry.kind)
        return self.entries.setdefault(key, (entry, lines))[0]


_batch: ContextVar[_Batch | None] = ContextVar("ledger_posting_batch", default=None)


@contextmanager
def posting_in_bulk(scope: Scope):
    """Post the entries of many business events of `scope` with a handful of statements (a
    batch job): inside the block `post_entry` checks each entry as always and returns it
    unsaved; at the end of the block the entries not posted before are written together —
    one look-up of those already posted, one of the accounts, one insert of entries, one of
    lines. Run it inside the caller's transaction, so the entries commit or roll back with
    the events that caused them. A concurrent posting of the same (source, kind) makes the
    insert fail (IntegrityError) and the caller's transaction roll back: the batch path is
    for sources of its own (new invoice or payment ids), and its caller retries event by
    event."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("posting_in_bulk must run inside a transaction")
    batch = _Batch(scope)
    token = _batch.set(batch)
    try:
        yield
    finally:
        _batch.reset(token)
    _write_batch(batch)


def _write_batch(batch: _Batch) -> None:
    if not batch.entries:
        return
    scope = batch.scope
    posted = set(
        JournalEntry.objects.for_scope(scope)
        .filter(source_id__in={source_id for _, source_id, _ in batch.entries})
        .values_list("source_type", "source_id", "kind")
    )
    pending = [value for key, value in batch.entries.items() if key not in posted]
    codes = {line.account_code for _, lines in pending for line in lines}
    accounts = _accounts(scope, codes)
    JournalEntry.objects.bulk_create([entry for entry, _ in pending])
    JournalLine.objects.bulk_create(
        JournalLine(
            merchant_id=scope.merchant_id, environment=scope.environment, entry=entry,
            account=accounts[line.account_code], debit=line.debit, credit=line.credit,
            currency=line.currency,
        )
        for entry, lines in pending
        for line in lines
    )


def _check(source_type: str, source_id: str, kind: str, lines: list[Line]) -> None:
    if source_type not in SourceType.values:
        raise PostingError(f"unknown source type {source_type!r}")
    if kind not in EntryKind.values:
        raise PostingError(f"unknown entry kind {kind!r}")
    if not isinstance(source_id, str) or not 0 < len(source_id) <= 64:
        raise PostingError("source_id must be a string of 1-64 characters")
    totals: dict[str, int] = {}
    for line in lines:
        minor_units("debit", line.debit)
        minor_units("credit", line.credit)
        if line.debit and line.credit:
            raise PostingError("a line is a debit or a credit, not both")
        if not CURRENCY.match(line.currency or ""):
            raise PostingError(f"currency must be an ISO 4217 code, got {line.currency!r}")
        totals[line.currency] = totals.get(line.currency, 0) + line.debit - line.credit
    if not any(line.debit or line.credit for line in lines):
        raise PostingError("an entry needs at least one non-zero line")
    unbalanced = {currency: total for currency, total in totals.items() if total}
    if unbalanced:
        raise PostingError(f"debits and credits differ: {unbalanced}")


def _accounts(scope: Scope, codes: set[str]) -> dict[str, Account]:
    """The accounts of `codes` by code; a gateway's clearing sub-account is opened if new."""
    accounts = {a.code: a for a in Account.objects.for_scope(scope).filter(code__in=codes)}
    for code in codes - set(accounts):
        if code.startswith(f"{CLEARING}-"):
            accounts[code] = open_clearing_account(
                merchant_id=scope.merchant_id,
                environment=scope.environment,
                gateway=code.removeprefix(f"{CLEARING}-"),
            )
        else:
            raise PostingError(f"account {code} is not in the chart of accounts")
    return accounts


def _constraint_of(exc: IntegrityError) -> str | None:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)

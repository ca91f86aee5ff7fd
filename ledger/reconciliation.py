"""Reconciliation: do the books agree with themselves, and with what billing says happened?

The ledger cannot read invoices or payments (it imports nothing from billing), so the figures
to compare with come from providers listed in settings.LEDGER_RECONCILIATION_SOURCES: dotted
paths of functions `provider(scope) -> ExpectedFigures` (docs/accounting.md). Billing registers
its provider there. With no provider, only the ledger's own checks run. Checks the ledger cannot
make alone (the clearing accounts against each gateway's own records) come from
settings.LEDGER_RECONCILIATION_CHECKS: dotted paths of `checks(scope) -> list[Check]`.

Checks, per merchant environment:
- every entry balances per currency and has lines; the trial balance is zero per currency;
  no line is orphaned or mixed with another merchant environment's entry or account;
- every account is as the chart of accounts has it, and every entry's lines use the accounts
  its kind's posting rule posts to (ledger.reconciliation_rules);
- every entry of a kind a provider vouches for has its source in the provider's records, with
  the entry's amount (so a balanced entry entered by hand, with no business event behind it,
  is named);
- 1200 receivable = the open invoice amounts (per currency), when a provider gives them;
- 1100-<gateway> clearing = captured payments - refunds - gateway fees (per gateway and currency);
- every paid invoice has its `invoice_finalized` entry and nothing left receivable on it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.utils.module_loading import import_string

from cynco.tenancy import Scope
from ledger import chart_of_accounts as chart
from ledger.models import EntryKind, JournalEntry, JournalLine
from ledger.reconciliation_rules import chart_checks, posting_rule_checks, source_checks


@dataclass(frozen=True)
class ExpectedFigures:
    """What billing's records say the books should show; None means "not checked by me".

    receivable: {currency: sum of what is still owed on finalized invoices}
    clearing: {gateway: {currency: captured payments - refunds - gateway fees}}
    paid_invoice_ids: ids of invoices paid in full (with a non-zero total)
    sources: {(source type, source id, entry kind): the entry's amount, or None for "exists,
             amount not checked"} for every entry the records imply, of the kinds in
    source_kinds: the entry kinds the provider vouches for (entries of other kinds are not
             checked against sources)
    """

    receivable: dict[str, int] | None = None
    clearing: dict[str, dict[str, int]] | None = None
    paid_invoice_ids: Iterable[str] | None = None
    sources: dict[tuple[str, str, str], int | None] | None = None
    source_kinds: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Check:
    """One comparison: `expected` and `actual` are minor units, counts, or short words."""

    merchant_id: str
    environment: str
    check: str
    subject: str
    expected: int | str
    actual: int | str

    @property
    def ok(self) -> bool:
        return self.expected == self.actual

    def as_row(self) -> dict:
        return {
            "merchant": self.merchant_id, "environment": self.environment, "check": self.check,
            "subject": self.subject, "expected": self.expected, "actual": self.actual,
            "ok": self.ok,
        }


@dataclass
class Findings:
    checks: list[Check] = field(default_factory=list)

    @property
    def differences(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]

    @property
    def ok(self) -> bool:
        return not self.differences


def reconcile(scopes: Iterable[Scope]) -> Findings:
    """Every check for every scope given (read-only)."""
    findings = Findings()
    for scope in scopes:
        findings.checks += internal_checks(scope)
        findings.checks += expected_checks(scope, expected_figures(scope))
        for path in getattr(settings, "LEDGER_RECONCILIATION_CHECKS", []):
            findings.checks += import_string(path)(scope)
    return findings


def expected_figures(scope: Scope) -> ExpectedFigures:
    """The figures of every registered provider for `scope`, added together."""
    receivable: dict[str, int] | None = None
    clearing: dict[str, dict[str, int]] | None = None
    paid: set[str] | None = None
    sources: dict[tuple[str, str, str], int | None] | None = None
    source_kinds: set[str] = set()
    for path in getattr(settings, "LEDGER_RECONCILIATION_SOURCES", []):
        figures = import_string(path)(scope)
        if figures.receivable is not None:
            receivable = receivable or {}
            for currency, amount in figures.receivable.items():
                receivable[currency] = receivable.get(currency, 0) + amount
        if figures.clearing is not None:
            clearing = clearing or {}
            for gateway, amounts in figures.clearing.items():
                for currency, amount in amounts.items():
                    held = clearing.setdefault(gateway, {})
                    held[currency] = held.get(currency, 0) + amount
        if figures.paid_invoice_ids is not None:
            paid = (paid or set()) | set(figures.paid_invoice_ids)
        if figures.sources is not None:
            sources = {**(sources or {}), **figures.sources}
            source_kinds |= set(figures.source_kinds)
    return ExpectedFigures(receivable=receivable, clearing=clearing, paid_invoice_ids=paid,
                           sources=sources, source_kinds=frozenset(source_kinds))


def internal_checks(scope: Scope) -> list[Check]:
    """What the ledger can check alone."""
    made = _maker(scope)
    with connection.cursor() as cursor:
        cursor.execute(_UNBALANCED, [scope.merchant_id, scope.environment])
        unbalanced = cursor.fetchone()[0]
        cursor.execute(_WITHOUT_LINES, [scope.merchant_id, scope.environment])
        without_lines = cursor.fetchone()[0]
        cursor.execute(_ORPHANS, [scope.merchant_id, scope.environment])
        orphans = cursor.fetchone()[0]
    checks = [
        made("entries balance", "unbalanced entries", 0, unbalanced),
        made("entries have lines", "entries without lines", 0, without_lines),
        made("no orphan lines", "orphan or mixed lines", 0, orphans),
    ]
    totals = (
        JournalLine.objects.for_scope(scope)
        .values("currency").annotate(debits=Sum("debit"), credits=Sum("credit"))
        .order_by("currency")
    )
    for row in totals:
        checks.append(made("trial balance", row["currency"], 0, row["debits"] - row["credits"]))
    return checks + chart_checks(scope, made) + posting_rule_checks(scope, made)


def expected_checks(scope: Scope, expected: ExpectedFigures) -> list[Check]:
    """The books against a provider's figures."""
    made = _maker(scope)
    checks: list[Check] = []
    if expected.receivable is not None:
        actual = _balances(scope, chart.RECEIVABLE)
        for currency in sorted(set(expected.receivable) | set(actual)):
            checks.append(made("receivable", f"{chart.RECEIVABLE} {currency}",
                               expected.receivable.get(currency, 0), actual.get(currency, 0)))
    if expected.clearing is not None:
        actual_by_gateway = _clearing_balances(scope)
        for gateway in sorted(set(expected.clearing) | set(actual_by_gateway)):
            wanted, held = expected.clearing.get(gateway, {}), actual_by_gateway.get(gateway, {})
            for currency in sorted(set(wanted) | set(held)):
                checks.append(made("clearing", f"{chart.clearing_code(gateway)} {currency}",
                                   wanted.get(currency, 0), held.get(currency, 0)))
    if expected.paid_invoice_ids is not None:
        checks += _paid_invoice_checks(scope, sorted(expected.paid_invoice_ids))
    if expected.sources is not None:
        checks += source_checks(scope, made, expected.sources, set(expected.source_kinds))
    return checks


def _paid_invoice_checks(scope: Scope, invoice_ids: list[str]) -> list[Check]:
    made = _maker(scope)
    finalized = set(
        JournalEntry.objects.for_scope(scope)
        .filter(kind=EntryKind.INVOICE_FINALIZED, source_id__in=invoice_ids)
        .values_list("source_id", flat=True)
    )
    open_amounts: dict[str, list[str]] = defaultdict(list)
    for row in (
        JournalLine.objects.for_scope(scope)
        .filter(account__code=chart.RECEIVABLE, entry__invoice_id__in=invoice_ids)
        .values("entry__invoice_id", "currency")
        .annotate(debits=Sum("debit"), credits=Sum("credit"))
    ):
        if row["debits"] != row["credits"]:
            net = row["debits"] - row["credits"]
            open_amounts[row["entry__invoice_id"]].append(f"{net} {row['currency']} open")
    checks = [made("paid invoices settled", "paid invoices", len(invoice_ids),
                   sum(1 for i in invoice_ids if i in finalized and i not in open_amounts))]
    for invoice_id in invoice_ids:
        if invoice_id not in finalized:
            checks.append(made("paid invoice", invoice_id, "settled", "no finalized entry"))
        elif invoice_id in open_amounts:
            checks.append(made("paid invoice", invoice_id, "settled",
                               ", ".join(open_amounts[invoice_id])))
    return checks


def _balances(scope: Scope, code: str) -> dict[str, int]:
    rows = (
        JournalLine.objects.for_scope(scope).filter(account__code=code)
        .values("currency").annotate(debits=Sum("debit"), credits=Sum("credit"))
    )
    return {row["currency"]: row["debits"] - row["credits"] for row in rows}


def _clearing_balances(scope: Scope) -> dict[str, dict[str, int]]:
    prefix = f"{chart.CLEARING}-"
    rows = (
        JournalLine.objects.for_scope(scope).filter(account__code__startswith=prefix)
        .values("account__code", "currency").annotate(debits=Sum("debit"), credits=Sum("credit"))
    )
    result: dict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        gateway = row["account__code"].removeprefix(prefix)
        result[gateway][row["currency"]] = row["debits"] - row["credits"]
    return result


def _maker(scope: Scope):
    def made(check: str, subject: str, expected, actual) -> Check:
        return Check(scope.merchant_id, scope.environment, check, subject, expected, actual)

    return made


_UNBALANCED = """
SELECT count(DISTINCT entry_id) FROM (
    SELECT entry_id FROM ledger_journalline
     WHERE merchant_id = %s AND environment = %s
     GROUP BY entry_id, currency HAVING sum(debit) <> sum(credit)
) AS off
"""

_WITHOUT_LINES = """
SELECT count(*) FROM ledger_journalentry e
 WHERE e.merchant_id = %s AND e.environment = %s
   AND NOT EXISTS (SELECT 1 FROM ledger_journalline l WHERE l.entry_id = e.id)
"""

_ORPHANS = """
SELECT count(*) FROM ledger_journalline l
  LEFT JOIN ledger_journalentry e ON e.id = l.entry_id
  LEFT JOIN ledger_account a ON a.id = l.account_id
 WHERE l.merchant_id = %s AND l.environment = %s
   AND (e.id IS NULL OR a.id IS NULL
        OR (e.merchant_id, e.environment) <> (l.merchant_id, l.environment)
        OR (a.merchant_id, a.environment) <> (l.merchant_id, l.environment))
"""

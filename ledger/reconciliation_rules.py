"""Reconciliation checks that each entry and account is what the ledger's own rules make
(issue 13): a row written around the posting rules — by hand, or by the tables' owner with the
triggers off — is named here even when it balances.

- chart: every account's type, normal balance and parent are those of the chart of accounts
  (ledger.chart_of_accounts), and every account's code is in the chart (or a gateway's
  clearing sub-account `1100-<gateway>`);
- posting rules: each entry's lines use the accounts its kind's rule posts to (a reversal
  mirrors the entry it reverses, line for line);
- sources: each entry of a kind a provider vouches for has its source in the provider's
  records, with the same amount (the sum of its debits) when the provider gives one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping

from cynco.tenancy import Scope
from ledger import chart_of_accounts as chart
from ledger.models import Account, EntryKind, JournalEntry, JournalLine

CLEARING = "1100-*"

# kind: (accounts its debits may use, accounts its credits may use). A kind not listed here
# (one added later) is checked by its provider's sources only; add its rule here with it.
POSTING_RULES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    EntryKind.INVOICE_FINALIZED: (
        frozenset({chart.RECEIVABLE, chart.DISCOUNTS}),
        frozenset({chart.SUBSCRIPTION_REVENUE, chart.USAGE_REVENUE, chart.ONE_OFF_REVENUE,
                   chart.TAX_PAYABLE}),
    ),
    # A payment pays an invoice (1200), or lands after its purpose was gone (2100).
    EntryKind.PAYMENT_CAPTURED: (frozenset({CLEARING}),
                                 frozenset({chart.RECEIVABLE, chart.CUSTOMER_CREDIT})),
    # A refund: contra-revenue and its tax given back, or an unapplied payment returned.
    EntryKind.REFUND: (frozenset({chart.REFUNDS, chart.TAX_PAYABLE, chart.CUSTOMER_CREDIT}),
                       frozenset({CLEARING})),
    EntryKind.UPGRADE_CREDIT: (frozenset({chart.SUBSCRIPTION_REVENUE, chart.TAX_PAYABLE}),
                               frozenset({chart.CUSTOMER_CREDIT})),
    EntryKind.CREDIT_APPLIED: (frozenset({chart.CUSTOMER_CREDIT}), frozenset({chart.RECEIVABLE})),
    EntryKind.WRITE_OFF: (frozenset({chart.BAD_DEBT, chart.TAX_PAYABLE}),
                          frozenset({chart.RECEIVABLE})),
    EntryKind.GATEWAY_FEE: (frozenset({chart.GATEWAY_FEES}), frozenset({CLEARING})),
}

Made = Callable[[str, str, object, object], object]


def chart_checks(scope: Scope, made: Made) -> list:
    """Every account against the chart of accounts."""
    specs = {spec.code: spec for spec in chart.CHART}
    accounts = list(Account.objects.for_scope(scope).select_related("parent"))
    wrong = []
    for account in accounts:
        spec = specs.get(account.code)
        if spec is None and account.code.startswith(f"{chart.CLEARING}-"):
            spec = chart.clearing_spec(account.code.removeprefix(f"{chart.CLEARING}-"))
        actual = _shape(account.type, account.normal_balance,
                        account.parent.code if account.parent else None)
        if spec is None:
            wrong.append(made("chart of accounts", f"account {account.code}", "in the chart",
                              f"not in the chart ({actual})"))
        elif actual != _shape(spec.type, spec.normal_balance, spec.parent_code):
            wrong.append(made("chart of accounts", f"account {account.code}",
                              _shape(spec.type, spec.normal_balance, spec.parent_code), actual))
    return [made("chart of accounts", "accounts as in the chart", len(accounts),
                 len(accounts) - len(wrong)), *wrong]


def posting_rule_checks(scope: Scope, made: Made) -> list:
    """Every entry's lines against its kind's posting rule (a reversal: its original's)."""
    lines_of: dict[str, list[tuple[str, int, int, str]]] = defaultdict(list)
    for entry_id, code, debit, credit, currency in (
        JournalLine.objects.for_scope(scope)
        .values_list("entry_id", "account__code", "debit", "credit", "currency")
    ):
        lines_of[entry_id].append((code, debit, credit, currency))
    wrong = []
    entries = list(JournalEntry.objects.for_scope(scope).values_list("id", "kind", "reversal_of_id"))
    for entry_id, kind, reversal_of in entries:
        lines = lines_of.get(entry_id, [])
        if kind == EntryKind.REVERSAL:
            mirrored = Counter((code, credit, debit, currency)
                               for code, debit, credit, currency in lines_of.get(reversal_of, []))
            if reversal_of is None or mirrored != Counter(lines):
                wrong.append(made("posting rules", f"{entry_id} {kind}",
                                  "the mirror of the reversed entry", _describe(lines)))
            continue
        rule = POSTING_RULES.get(kind)
        if rule is None:
            continue
        debits, credits = rule
        if not all(_allowed(code, debits if debit else credits)
                   for code, debit, credit, _ in lines):
            wrong.append(made("posting rules", f"{entry_id} {kind}", _describe_rule(rule),
                              _describe(lines)))
    return [made("posting rules", "entries as their rule posts them", len(entries),
                 len(entries) - len(wrong)), *wrong]


def source_checks(scope: Scope, made: Made, sources: Mapping[tuple[str, str, str], int | None],
                  kinds: set[str]) -> list:
    """Every entry of `kinds` against its source in the providers' records: it exists, and its
    amount (when given) is the entry's (the sum of its debits). A source is looked up by the
    entry's (source type, source id, kind), else by ("invoice", its invoice id, kind): billing
    knows a payment by the invoice it paid, not always by the gateway's payment id."""
    amounts: dict[str, int] = defaultdict(int)
    for entry_id, debit in JournalLine.objects.for_scope(scope).values_list("entry_id", "debit"):
        amounts[entry_id] += debit
    wrong, count = [], 0
    for entry_id, source_type, source_id, kind, invoice_id in (
        JournalEntry.objects.for_scope(scope).filter(kind__in=kinds)
        .values_list("id", "source_type", "source_id", "kind", "invoice_id")
        .order_by("date", "id")
    ):
        count += 1
        subject = f"{entry_id} {kind} of {source_type} {source_id}"
        key = (source_type, source_id, kind)
        if key not in sources and invoice_id:
            key = ("invoice", invoice_id, kind)
        if key not in sources:
            wrong.append(made("entry sources", subject, "a source in the records",
                              f"no such source ({amounts[entry_id]})"))
        elif sources[key] is not None and sources[key] != amounts[entry_id]:
            wrong.append(made("entry sources", subject, sources[key], amounts[entry_id]))
    return [made("entry sources", "entries with their source", count, count - len(wrong)),
            *wrong]


def _shape(type_: str, normal_balance: str, parent_code: str | None) -> str:
    return f"{type_}/{normal_balance}" + (f" under {parent_code}" if parent_code else "")


def _allowed(code: str, accounts: frozenset[str]) -> bool:
    return code in accounts or (CLEARING in accounts and code.startswith(f"{chart.CLEARING}-"))


def _describe(lines) -> str:
    return ", ".join(f"{'DR' if debit else 'CR'} {code} {debit or credit}"
                     for code, debit, credit, _ in sorted(lines, key=lambda l: (not l[1], l[0])))


def _describe_rule(rule) -> str:
    debits, credits = rule
    return f"DR {'/'.join(sorted(debits))} CR {'/'.join(sorted(credits))}"

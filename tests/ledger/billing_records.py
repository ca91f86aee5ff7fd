"""A stand-in for billing's side of reconciliation: what invoices and payments say happened.

Tests record business events here as billing would in its own tables, post them through the
posting rules, and register `expected_figures` in settings.LEDGER_RECONCILIATION_SOURCES, exactly
as billing's provider will be registered.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from cynco.tenancy import Scope
from ledger.reconciliation import ExpectedFigures

PROVIDER = "tests.ledger.billing_records.expected_figures"


@dataclass
class Records:
    owed: dict[str, tuple[str, int]] = field(default_factory=dict)  # invoice -> (currency, open)
    paid: set[str] = field(default_factory=set)
    clearing: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    # (source type, source id, kind) -> amount of each entry the records imply; None: sources
    # are not given (entries are not checked against them).
    sources: dict[tuple[str, str, str], int | None] | None = None

    def move_clearing(self, gateway: str, currency: str, amount: int) -> None:
        self.clearing[gateway][currency] = self.clearing[gateway].get(currency, 0) + amount


RECORDS: dict[Scope, Records] = defaultdict(Records)


def expected_figures(scope: Scope) -> ExpectedFigures:
    records = RECORDS[scope]
    receivable: dict[str, int] = {}
    for currency, amount in records.owed.values():
        receivable[currency] = receivable.get(currency, 0) + amount
    return ExpectedFigures(
        receivable=receivable,
        clearing={gateway: dict(amounts) for gateway, amounts in records.clearing.items()},
        paid_invoice_ids=set(records.paid),
        sources=None if records.sources is None else dict(records.sources),
        source_kinds=frozenset({"invoice_finalized", "payment_captured", "refund",
                                "upgrade_credit", "credit_applied", "write_off",
                                "gateway_fee"}),
    )

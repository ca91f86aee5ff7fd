"""The general ledger: accounts, journal entries and reports. Amounts in minor units."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from cynco_billing.models.base import Model


class Account(Model):
    """`type`: asset, liability, equity, revenue or expense; `balances` by currency."""

    code: str
    name: str
    type: str
    normal_balance: str
    parent_code: str | None = None
    balances: dict[str, int] = {}


class EntrySource(Model):
    type: str
    id: str


class JournalLine(Model):
    account_code: str
    account_name: str
    debit: int
    credit: int
    currency: str


class JournalEntry(Model):
    id: str
    date: dt.date
    memo: str
    kind: str | None = None
    source: EntrySource
    invoice_id: str | None = None
    reversal_of: str | None = None
    posted_at: dt.datetime | None = None
    lines: list[JournalLine]


class TrialBalanceRow(Model):
    account_code: str
    account_name: str
    debit: int
    credit: int


class TrialBalanceBook(Model):
    rows: list[TrialBalanceRow]
    total_debit: int
    total_credit: int


class TrialBalance(Model):
    as_of: dt.date
    currencies: dict[str, TrialBalanceBook]


class StatementRow(Model):
    account_code: str
    account_name: str
    balance: int


class StatementSection(Model):
    rows: list[StatementRow]
    total: int


class EquitySection(StatementSection):
    retained_earnings: int


class BalanceSheetBook(Model):
    assets: StatementSection
    liabilities: StatementSection
    equity: EquitySection
    total_liabilities_and_equity: int


class BalanceSheet(Model):
    as_of: dt.date
    currencies: dict[str, BalanceSheetBook]


class ProfitLossRow(Model):
    account_code: str
    account_name: str
    amount: int


class ProfitLossSection(Model):
    rows: list[ProfitLossRow]
    total: int


class ProfitLossBook(Model):
    revenue: ProfitLossSection
    expenses: ProfitLossSection
    net_income: int


class ProfitLoss(Model):
    from_: dt.date = Field(alias="from")
    to: dt.date
    currencies: dict[str, ProfitLossBook]

"""Trial balance, balance sheet and profit and loss, each per currency.

Accounts appear with their own lines only (a parent such as 1100 shows through its sub-accounts),
so nothing is counted twice. Revenue and expense accounts are never closed, so the balance sheet
shows their cumulative net as retained earnings.
"""

from __future__ import annotations

from datetime import date as Date

from django.db.models import Sum
from django.db.models.functions import TruncMonth

from cynco.tenancy import Scope
from ledger.models import Account, AccountType, JournalLine
from ledger.selectors.balances import chart, movements


def trial_balance(*, scope: Scope, as_of: Date) -> dict:
    """Every account's net balance on its debit or credit side, entries dated up to `as_of`."""
    currencies: dict[str, dict] = {}
    for account, currency, movement in _posted(scope, until=as_of):
        net = movement.debit - movement.credit
        if not net:
            continue
        book = currencies.setdefault(currency, {"rows": [], "totalDebit": 0, "totalCredit": 0})
        row = {**_account(account), "debit": max(net, 0), "credit": max(-net, 0)}
        book["rows"].append(row)
        book["totalDebit"] += row["debit"]
        book["totalCredit"] += row["credit"]
    return {"asOf": as_of, "currencies": dict(sorted(currencies.items()))}


def balance_sheet(*, scope: Scope, as_of: Date) -> dict:
    """Assets = liabilities + equity (retained earnings included), entries up to `as_of`."""
    currencies: dict[str, dict] = {}
    sections = {
        AccountType.ASSET: "assets", AccountType.LIABILITY: "liabilities",
        AccountType.EQUITY: "equity",
    }
    for account, currency, movement in _posted(scope, until=as_of):
        book = currencies.setdefault(currency, _empty_balance_sheet())
        if account.type in sections:
            section = book[sections[account.type]]
            balance = movement.net("debit" if account.type == AccountType.ASSET else "credit")
            if balance:
                section["rows"].append({**_account(account), "balance": balance})
                section["total"] += balance
        else:  # revenue and expenses, not yet closed to equity
            book["equity"]["retainedEarnings"] += movement.credit - movement.debit
    for book in currencies.values():
        book["equity"]["total"] += book["equity"]["retainedEarnings"]
        book["totalLiabilitiesAndEquity"] = book["liabilities"]["total"] + book["equity"]["total"]
    return {"asOf": as_of, "currencies": dict(sorted(currencies.items()))}


def profit_and_loss(*, scope: Scope, since: Date, until: Date) -> dict:
    """Revenue less contra-revenue (discounts, refunds) less expenses, entries in [since, until].

    Revenue rows are credits less debits (a contra-revenue account shows negative); expense rows
    are debits less credits.
    """
    currencies: dict[str, dict] = {}
    sections = {AccountType.REVENUE: ("revenue", "credit"), AccountType.EXPENSE: ("expenses", "debit")}
    for account, currency, movement in _posted(scope, since=since, until=until):
        if account.type not in sections:
            continue
        name, side = sections[account.type]
        book = currencies.setdefault(
            currency, {"revenue": _section(), "expenses": _section(), "netIncome": 0}
        )
        amount = movement.net(side)
        if amount:
            book[name]["rows"].append({**_account(account), "amount": amount})
            book[name]["total"] += amount
    for book in currencies.values():
        book["netIncome"] = book["revenue"]["total"] - book["expenses"]["total"]
    return {"from": since, "to": until, "currencies": dict(sorted(currencies.items()))}


def _posted(scope: Scope, *, since: Date | None = None, until: Date | None = None):
    """(account, currency, Movement) for every account with lines, in code order."""
    sums = movements(scope, since=since, until=until)
    for account in chart(scope):
        for currency, movement in sorted(sums.get(account.pk, {}).items()):
            yield account, currency, movement


def _account(account: Account) -> dict:
    return {"accountCode": account.code, "accountName": account.name}


def _section() -> dict:
    return {"rows": [], "total": 0}


def _empty_balance_sheet() -> dict:
    return {
        "assets": _section(),
        "liabilities": _section(),
        "equity": {**_section(), "retainedEarnings": 0},
        "totalLiabilitiesAndEquity": 0,
    }



def revenue_by_month(*, scope: Scope, since: Date, until: Date, currency: str) -> dict[str, int]:
    """{"YYYY-MM": net revenue} of entries dated in [since, until] in `currency`: credits less
    debits of every revenue account, so discounts and refunds (contra-revenue) reduce it, as in
    the profit and loss. Months without revenue are left out."""
    rows = (
        JournalLine.objects.for_scope(scope)
        .filter(
            account__type=AccountType.REVENUE,
            currency=currency,
            entry__date__gte=since,
            entry__date__lte=until,
        )
        .annotate(month=TruncMonth("entry__date"))
        .values("month")
        .annotate(credits=Sum("credit"), debits=Sum("debit"))
    )
    return {row["month"].strftime("%Y-%m"): row["credits"] - row["debits"] for row in rows}

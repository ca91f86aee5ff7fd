"""Sums of posted lines per account and currency: what every report is built from."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date as Date

from django.db.models import Sum

from cynco.tenancy import Scope
from ledger.models import Account, JournalLine


@dataclass(frozen=True)
class Movement:
    """The debits and credits posted to one account in one currency."""

    debit: int
    credit: int

    def net(self, normal_balance: str) -> int:
        """The balance on the account's normal side (positive when it is as expected)."""
        return self.debit - self.credit if normal_balance == "debit" else self.credit - self.debit


def movements(
    scope: Scope, *, since: Date | None = None, until: Date | None = None
) -> dict[str, dict[str, Movement]]:
    """{account id: {currency: Movement}} of entries dated in [since, until] (either open)."""
    lines = JournalLine.objects.for_scope(scope)
    if since is not None:
        lines = lines.filter(entry__date__gte=since)
    if until is not None:
        lines = lines.filter(entry__date__lte=until)
    sums: dict[str, dict[str, Movement]] = defaultdict(dict)
    for row in lines.values("account_id", "currency").annotate(
        debits=Sum("debit"), credits=Sum("credit")
    ):
        sums[row["account_id"]][row["currency"]] = Movement(row["debits"], row["credits"])
    return sums


def chart(scope: Scope) -> list[Account]:
    """The scope's accounts in code order, with their parents loaded."""
    return list(Account.objects.for_scope(scope).select_related("parent").order_by("code"))


def balances_by_account(
    accounts: list[Account], sums: dict[str, dict[str, Movement]]
) -> dict[str, dict[str, int]]:
    """{account id: {currency: balance}}, normal side up; a parent's includes its sub-accounts."""
    result: dict[str, dict[str, int]] = {account.pk: {} for account in accounts}
    by_id = {account.pk: account for account in accounts}
    for account in accounts:
        for currency, movement in sums.get(account.pk, {}).items():
            holder = account
            while holder is not None:
                net = movement.net(by_id[holder.pk].normal_balance)
                result[holder.pk][currency] = result[holder.pk].get(currency, 0) + net
                holder = by_id.get(holder.parent_id) if holder.parent_id else None
    return result

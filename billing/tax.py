"""Tax given back: the share of tax inside money or credit that goes back to a customer.

Pure: no Django. One rounding rule (billing.pricing.round_minor, half-up, once per document):

- a refund or write-off of `amount` out of a document whose `total` included `tax` gives back
  amount × tax / total, rounded half-up, never more than the tax not yet given back on that
  document (so the tax given back over all its credit notes never exceeds what it charged),
  and the one that takes the last of the total gives back all the tax left;
- a credit computed net of tax (the unused part of a price) gives back its tax at the rate
  the invoice charges (net × rate / 100, half-up): the same figure as the charge it undoes.

Worked example (docs/accounting.md): a refund of 21067 on a payment of 21600 that included
1600 tax gives back 21067 × 1600 / 21600 = 1560.52 → 1561 of tax; 19506 is refunded revenue.
"""

from __future__ import annotations

from decimal import Decimal

from billing.pricing import round_minor


def tax_share(amount: int, *, tax: int, total: int, given_back: int = 0,
              credited: int = 0) -> int:
    """The tax inside `amount`, a part of a document of `total` that charged `tax`, of which
    earlier credit notes already credited `credited` and gave back `given_back` of tax. The
    credit note that takes the last of the total gives back all the tax left, so a document
    credited in several pieces gives back exactly its tax, not a sen more or less."""
    if amount <= 0 or tax <= 0 or total <= 0:
        return 0
    if credited + amount >= total:
        return max(min(tax - given_back, amount), 0)
    share = round_minor(Decimal(amount) * tax / total)
    return max(min(share, tax - given_back, amount), 0)


def tax_at_rate(net: int, rate_percent: Decimal) -> int:
    """Tax on `net` at `rate_percent` (negative for a credit), rounded half-up."""
    if not rate_percent or not net:
        return 0
    return round_minor(Decimal(net) * rate_percent / 100)

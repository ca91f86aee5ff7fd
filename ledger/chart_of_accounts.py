"""The chart of accounts every merchant environment starts with (DESIGN.md, Ledger).

Plain data, no Django: `ledger.services.chart` creates the rows, the posting rules name accounts
by these codes, and migrations may read it.
"""

from __future__ import annotations

from dataclasses import dataclass

CLEARING = "1100"
RECEIVABLE = "1200"
CUSTOMER_CREDIT = "2100"
TAX_PAYABLE = "2300"
SUBSCRIPTION_REVENUE = "4001"
USAGE_REVENUE = "4002"
ONE_OFF_REVENUE = "4003"
DISCOUNTS = "4900"
REFUNDS = "4910"
GATEWAY_FEES = "6100"
BAD_DEBT = "6200"

# Gateways whose clearing sub-accounts exist from the start; another gateway's sub-account is
# opened the first time money moves through it.
DEFAULT_GATEWAYS = ("sandbox", "stripe", "chip")


@dataclass(frozen=True)
class AccountSpec:
    code: str
    name: str
    type: str  # asset | liability | equity | revenue | expense
    normal_balance: str  # debit | credit
    parent_code: str | None = None


CHART: tuple[AccountSpec, ...] = (
    AccountSpec(CLEARING, "Gateway clearing", "asset", "debit"),
    AccountSpec(RECEIVABLE, "Accounts receivable", "asset", "debit"),
    AccountSpec(CUSTOMER_CREDIT, "Customer credit", "liability", "credit"),
    AccountSpec(TAX_PAYABLE, "Tax payable", "liability", "credit"),
    AccountSpec(SUBSCRIPTION_REVENUE, "Subscription revenue", "revenue", "credit"),
    AccountSpec(USAGE_REVENUE, "Usage and overage revenue", "revenue", "credit"),
    AccountSpec(ONE_OFF_REVENUE, "One-off revenue", "revenue", "credit"),
    AccountSpec(DISCOUNTS, "Discounts", "revenue", "debit"),  # contra-revenue
    AccountSpec(REFUNDS, "Refunds", "revenue", "debit"),  # contra-revenue
    AccountSpec(GATEWAY_FEES, "Gateway fees", "expense", "debit"),
    AccountSpec(BAD_DEBT, "Bad debt", "expense", "debit"),
)


def clearing_code(gateway: str) -> str:
    """The code of a gateway's clearing sub-account: `1100-stripe`."""
    return f"{CLEARING}-{gateway}"


def clearing_spec(gateway: str) -> AccountSpec:
    return AccountSpec(
        clearing_code(gateway), f"Gateway clearing: {gateway}", "asset", "debit", CLEARING
    )


def starting_chart() -> tuple[AccountSpec, ...]:
    """Every account a new merchant environment gets, parents before their sub-accounts."""
    return CHART + tuple(clearing_spec(gateway) for gateway in DEFAULT_GATEWAYS)

"""PLACEHOLDER until the entitlements branch lands: that branch owns this module and replaces
it wholesale at merge (contract between issues 5 and 6).

The subscriptions services call these functions inside their transaction, after
lock_customer(customer.id); the signatures and docstrings are the contract. Until the merge the
bodies do nothing, and what a customer holds is derived from their subscriptions
(billing.selectors.customers.customer_holdings).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class OverageLine:
    feature_slug: str
    feature_name: str
    units: Decimal
    unit_price: int
    amount: int
    period_start: datetime
    period_end: datetime
    period_usage_id: str


def subscription_changed(*, subscription, at) -> None:
    """Make the customer's grants and balances match `subscription` as it is now: creates,
    updates or ends the BalanceGrant rows of that subscription (from its product_version's
    FeatureGrants, allowance x quantity, per_entity respected), recomputes `granted` of the
    affected balances, and aligns their period to the subscription's current period (for
    grants without their own resetInterval). Idempotent. Call it after: attach/activate,
    trial start/end, upgrade, downgrade applied, quantity change, pause, resume, cancel
    (immediate or at period end when it takes effect), expiry, renewal (new period),
    version migration."""
    return None


def purchase_granted(*, subscription, quantity, at) -> None:
    """A one_time price was bought: grants `quantity` units of each metered/credit feature of
    the product version at once, never resetting (credit top-up). (`subscription` is the row
    the subscriptions side records for the purchase.)"""
    return None


def period_close(*, subscription, period_end, at) -> list[OverageLine]:
    """Close the period ending at `period_end` for every balance driven by `subscription`
    (exactly once: a second call returns the same lines and changes nothing) and return what
    is billable in arrears: OverageLine(feature_slug, feature_name, units: Decimal,
    unit_price: int minor units, amount: int, period_start, period_end, period_usage_id).
    Overage = max(used - granted, 0) only where overage_allowed."""
    return []


def overage_invoiced(*, period_usage_ids, invoice_id) -> None:
    """Marks those PeriodUsage rows as billed (so nothing is billed twice)."""
    return None


def carry_over(*, customer, from_subscription, to_subscription, balances: bool,
               usages: bool, feature_slugs: list[str] | None, at) -> None:
    """Subscribe's carryOverBalances / carryOverUsages on an upgrade."""
    return None

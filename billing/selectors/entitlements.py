"""Reads of balances: spend-cap standing, entities, and usage over time (`/events`)."""

from __future__ import annotations

from billing.models import Balance
from billing.selectors.customers import customer_find
from billing.services.spend_caps import metered_feature
from billing.services.usage import standing_of
from cynco.tenancy import Scope


def spend_cap_status(scope: Scope, customer: str, feature: str) -> dict:
    """SpendCapStatus: the cap that applies to the customer's own balance of `feature`, the
    overage cost accrued this period, and what is left of the cap (null caps: unlimited)."""
    found = customer_find(scope, customer)
    metered = metered_feature(scope, feature)
    balance = Balance.objects.filter(customer=found, feature=metered, entity_key="").first()
    standing = standing_of(balance)
    cap = standing.spend_cap
    accrued = standing.accrued_cents()
    return {
        "customerId": found.id, "featureId": metered.slug, "capCents": cap,
        "accruedCents": accrued,
        "remainingCents": None if cap is None else max(cap - accrued, 0),
        "unlimited": cap is None,
    }

"""The seam between subscriptions and balances (the contract of issues 5 and 6).

The subscriptions services call these INSIDE their transaction, AFTER lock_customer(customer.id)
was taken; the functions assume the lock is held and do not take it again. None posts a ledger
entry: `period_close` answers what overage to bill and the invoice posts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from billing.entitlement_rules import ZERO, period_at
from billing.models import (
    Balance, BalanceGrant, Customer, Feature, FeatureGrant, PeriodUsage, Subscription,
)
from billing.services.balances import balance_close_period, customer_feature_balances


@dataclass(frozen=True)
class OverageLine:
    """Overage of one balance in one closed period, billable in arrears."""

    feature_slug: str
    feature_name: str
    units: Decimal
    unit_price: int
    amount: int
    period_start: datetime
    period_end: datetime
    period_usage_id: str


def subscription_changed(*, subscription: Subscription, at: datetime) -> None:
    """Make the customer's grants and balances match `subscription` as it is now.

    Creates, updates or ends the BalanceGrant rows of that subscription (from its product
    version's FeatureGrants, allowance x quantity, per_entity respected); a subscription that
    is neither active nor trialing grants nothing. Recomputes the affected balances and aligns
    their period to the subscription's current one (closing the previous period when the new
    one starts later). Idempotent. Caller holds lock_customer; no ledger entry.
    """
    granting = subscription.status in Subscription.GRANTING_STATUSES
    wanted = (
        list(FeatureGrant.objects.filter(version_id=subscription.product_version_id)
             .select_related("feature"))
        if granting else []
    )
    existing = {
        grant.feature_id: grant
        for grant in BalanceGrant.objects.filter(
            subscription=subscription, source=BalanceGrant.Source.SUBSCRIPTION
        ).select_related("feature")
    }
    features: dict[str, Feature] = {}
    for feature_grant in wanted:
        values = _grant_values(feature_grant, subscription.quantity)
        grant = existing.pop(feature_grant.feature_id, None)
        features[feature_grant.feature_id] = feature_grant.feature
        if grant is None:
            BalanceGrant.objects.create(
                merchant_id=subscription.merchant_id, environment=subscription.environment,
                customer_id=subscription.customer_id, feature=feature_grant.feature,
                source=BalanceGrant.Source.SUBSCRIPTION, subscription=subscription,
                created_at=at, **values,
            )
            continue
        if grant.reset_interval == "one_off" and grant.active:
            # A once-only allowance keeps what was spent of it when the quantity changes.
            values["remaining"] = (grant.remaining or ZERO) + values["allowance"] - grant.allowance
        changed = [name for name, value in values.items() if getattr(grant, name) != value]
        if changed or not grant.active:
            for name, value in values.items():
                setattr(grant, name, value)
            grant.active, grant.ended_at = True, None
            grant.save()
    for grant in existing.values():
        features[grant.feature_id] = grant.feature
        if grant.active:
            grant.active, grant.ended_at = False, at
            grant.save(update_fields=["active", "ended_at"])
    customer = Customer.objects.get(pk=subscription.customer_id)
    for feature in features.values():
        customer_feature_balances(customer=customer, feature=feature, at=at)


def _grant_values(feature_grant: FeatureGrant, quantity: int) -> dict:
    allowance = (feature_grant.allowance or ZERO) * quantity
    once = feature_grant.reset_interval == "one_off"
    return {
        "allowance": allowance, "remaining": allowance if once else None,
        "unlimited": feature_grant.unlimited, "overage_allowed": feature_grant.overage_allowed,
        "overage_price": feature_grant.overage_price,
        "reset_interval": feature_grant.reset_interval, "per_entity": feature_grant.per_entity,
    }


def purchase_granted(*, subscription: Subscription, quantity: int, at: datetime) -> None:
    """A one_time price was bought: grant `quantity` x allowance of each metered or credit
    feature of the product version at once, never resetting (a credit top-up).
    Caller holds lock_customer; no ledger entry (the purchase's invoice posts it)."""
    customer = Customer.objects.get(pk=subscription.customer_id)
    for feature_grant in FeatureGrant.objects.filter(
        version_id=subscription.product_version_id
    ).exclude(feature__type=Feature.Type.BOOLEAN).select_related("feature"):
        amount = (feature_grant.allowance or ZERO) * quantity
        BalanceGrant.objects.create(
            merchant_id=subscription.merchant_id, environment=subscription.environment,
            customer=customer, feature=feature_grant.feature,
            source=BalanceGrant.Source.PURCHASE, subscription=subscription, allowance=amount,
            remaining=amount, unlimited=feature_grant.unlimited,
            overage_allowed=feature_grant.overage_allowed,
            overage_price=feature_grant.overage_price, reset_interval="one_off",
            per_entity=feature_grant.per_entity, created_at=at,
        )
        customer_feature_balances(customer=customer, feature=feature_grant.feature, at=at)


def period_close(
    *, subscription: Subscription, period_end: datetime, at: datetime
) -> list[OverageLine]:
    """Close the period ending at `period_end` of every balance that follows `subscription`
    and answer its billable overage (max(used - granted, 0) where overage is allowed).

    Exactly once: a balance already past that period (closed lazily by a check or track, or
    by an earlier call) is left alone, and the lines come from the recorded PeriodUsage rows,
    so a second call answers the same lines. Caller holds lock_customer; no ledger entry.
    """
    for balance in Balance.objects.filter(subscription=subscription, period_end=period_end):
        start, end = period_at(
            balance.period_anchor, balance.reset_interval, balance.reset_count,
            balance.anchor_day, period_end,
        )
        balance_close_period(balance, closed_at=at, next_start=start, next_end=end)
    return _overage_closed(subscription, period_end)


def period_cut(*, subscription: Subscription, at: datetime) -> list[OverageLine]:
    """Close, at `at`, the current period of every balance that follows `subscription`, which
    ends before its period does (an upgrade now, a cancellation now), and answer the overage
    of that shortened period: usage so far above the allowance, where overage is allowed.

    Call it BEFORE any grant of the subscription or of its replacement changes (the period
    closes on the plan's own terms). Exactly once: a second call finds no balance whose period
    started before `at` and answers the same lines. Caller holds lock_customer; no ledger entry.
    """
    for balance in Balance.objects.filter(subscription=subscription, period_start__lt=at).exclude(
        period_end__lte=at  # an ended period is the period-end job's (period_close)
    ):
        balance_close_period(balance, closed_at=at, next_start=at,
                             next_end=balance.period_end, close_end=at)
    return _overage_closed(subscription, at)


def _overage_closed(subscription: Subscription, period_end: datetime) -> list[OverageLine]:
    """The billable overage of the subscription's periods closed at `period_end`."""
    closed = PeriodUsage.objects.filter(
        subscription=subscription, period_end=period_end, overage_units__gt=0
    ).select_related("feature").order_by("feature__slug", "entity_key")
    return [
        OverageLine(
            feature_slug=row.feature.slug, feature_name=row.feature.name,
            units=row.overage_units, unit_price=row.overage_price or 0,
            amount=row.overage_amount, period_start=row.period_start,
            period_end=row.period_end, period_usage_id=row.id,
        )
        for row in closed
    ]


def overage_invoiced(*, period_usage_ids: list[str], invoice_id: str) -> None:
    """Mark those closed periods as billed on `invoice_id` (a row already billed keeps its
    invoice). Caller holds lock_customer; no ledger entry."""
    PeriodUsage.objects.filter(id__in=period_usage_ids, invoice_id__isnull=True).update(
        invoice_id=invoice_id
    )


def carry_over(
    *, customer: Customer, from_subscription: Subscription, to_subscription: Subscription,
    balances: bool, usages: bool, feature_slugs: list[str] | None, at: datetime,
) -> set[str]:
    """Subscribe's carryOverBalances / carryOverUsages on an upgrade, after both subscriptions
    were passed to subscription_changed: the old plan's last closed period of each feature the
    new plan grants gives its unused allowance as a once-only grant (balances) and/or its
    usage to the new period (usages). Answers the ids of the PeriodUsage rows whose usage moved
    (their overage is counted on the new plan, not billed on the old). Caller holds
    lock_customer; no ledger entry."""
    carried: set[str] = set()
    grants = BalanceGrant.objects.filter(
        subscription=to_subscription, active=True, per_entity=False
    ).select_related("feature").exclude(feature__type=Feature.Type.BOOLEAN)
    for grant in grants:
        feature = grant.feature
        if feature_slugs is not None and feature.slug not in feature_slugs:
            continue
        last = PeriodUsage.objects.filter(
            customer=customer, feature=feature, entity_key="", subscription=from_subscription
        ).order_by("-period_start").first()
        if last is None:
            continue
        balance = Balance.objects.get(customer=customer, feature=feature, entity_key="")
        # The old plan's grant may have ended (canceled) before its period was closed.
        allowance = sum(
            (g.allowance for g in BalanceGrant.objects.filter(
                subscription=from_subscription, feature=feature,
                source=BalanceGrant.Source.SUBSCRIPTION)),
            ZERO,
        )
        leftover = max(max(last.granted, allowance) - last.used, ZERO)
        if balances and leftover > 0:
            BalanceGrant.objects.create(
                merchant_id=customer.merchant_id, environment=customer.environment,
                customer=customer, feature=feature, source=BalanceGrant.Source.MANUAL,
                allowance=leftover, remaining=leftover, reset_interval="one_off",
                created_at=at,
            )
            balance.granted += leftover
        if usages:
            balance.used += last.used
            carried.add(last.id)
        balance.save(update_fields=["granted", "used", "updated_at"])
    return carried

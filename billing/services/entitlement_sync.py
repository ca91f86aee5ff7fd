"""The seam between subscriptions and balances (the contract of issues 5 and 6).

The subscriptions services call these INSIDE their transaction, AFTER lock_customer(customer.id)
was taken; the functions assume the lock is held and do not take it again. None posts a ledger
entry: `period_close` answers what overage to bill and the invoice posts it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Case, CharField, Value, When

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
    existing = list(BalanceGrant.objects.filter(
        subscription=subscription, source=BalanceGrant.Source.SUBSCRIPTION
    ).select_related("feature"))
    sync = grants_synced(subscription=subscription, wanted=wanted, existing=existing, at=at)
    for grant in sync.created:
        grant.save(force_insert=True)
    for grant in sync.changed:
        grant.save()
    for grant in sync.ended:
        grant.save(update_fields=["active", "ended_at"])
    customer = Customer.objects.get(pk=subscription.customer_id)
    for feature in sync.features:
        customer_feature_balances(customer=customer, feature=feature, at=at)


@dataclass
class GrantSync:
    """What `grants_synced` changed in memory, for its caller to write."""

    created: list[BalanceGrant] = field(default_factory=list)
    changed: list[BalanceGrant] = field(default_factory=list)  # every field may have changed
    ended: list[BalanceGrant] = field(default_factory=list)  # active and ended_at changed
    features: list[Feature] = field(default_factory=list)  # whose balances to recompute


def grants_synced(*, subscription: Subscription, wanted: list[FeatureGrant],
                  existing: list[BalanceGrant], at: datetime) -> GrantSync:
    """The subscription's BalanceGrants (`existing`, source subscription) made to match
    `wanted` (its version's FeatureGrants, none unless it grants), in memory: no query."""
    existing_by_feature = {grant.feature_id: grant for grant in existing}
    sync, features = GrantSync(), {}
    for feature_grant in wanted:
        values = _grant_values(feature_grant, subscription.quantity)
        grant = existing_by_feature.pop(feature_grant.feature_id, None)
        features[feature_grant.feature_id] = feature_grant.feature
        if grant is None:
            sync.created.append(BalanceGrant(
                merchant_id=subscription.merchant_id, environment=subscription.environment,
                customer_id=subscription.customer_id, feature=feature_grant.feature,
                source=BalanceGrant.Source.SUBSCRIPTION, subscription=subscription,
                created_at=at, **values,
            ))
            continue
        if grant.reset_interval == "one_off" and grant.active:
            # A once-only allowance keeps what was spent of it when the quantity changes.
            values["remaining"] = (grant.remaining or ZERO) + values["allowance"] - grant.allowance
        changed = [name for name, value in values.items() if getattr(grant, name) != value]
        if changed or not grant.active:
            for name, value in values.items():
                setattr(grant, name, value)
            grant.active, grant.ended_at = True, None
            sync.changed.append(grant)
    for grant in existing_by_feature.values():
        features[grant.feature_id] = grant.feature
        if grant.active:
            grant.active, grant.ended_at = False, at
            sync.ended.append(grant)
    sync.features = list(features.values())
    return sync


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
    return [_overage_line(row) for row in closed]


def _overage_line(row: PeriodUsage) -> OverageLine:
    return OverageLine(
        feature_slug=row.feature.slug, feature_name=row.feature.name,
        units=row.overage_units, unit_price=row.overage_price or 0,
        amount=row.overage_amount, period_start=row.period_start,
        period_end=row.period_end, period_usage_id=row.id,
    )


def subscriptions_renewed(*, subscriptions: list[Subscription]) -> dict[str, list[OverageLine]]:
    """`period_close` and `subscription_changed` for a batch of renewals (the period-end
    job's batch path), with a few statements for the whole batch (balance_batches).

    Each of `subscriptions` was just moved to its next period (in memory at least; its
    `price` loaded): its `current_period_start` is the boundary, the end of the period that
    closes. Does what `period_close(subscription, period_end=boundary, at=boundary)` for each
    of them in order, then `subscription_changed(subscription, at=boundary)` for each in
    order, would do, and answers period_close's overage lines by subscription id.
    Caller holds every customer's lock; no ledger entry.
    """
    from billing.services.balance_batches import BalanceBook

    book = BalanceBook(subscriptions)
    book.periods_close([(s, s.current_period_start) for s in subscriptions])
    book.write_closed()
    boundary = {s.id: s.current_period_start for s in subscriptions}
    overage: dict[str, list[OverageLine]] = {s.id: [] for s in subscriptions}
    for row in PeriodUsage.objects.filter(
        subscription_id__in=list(boundary), period_end__in=set(boundary.values()),
        overage_units__gt=0,
    ).select_related("feature").order_by("feature__slug", "entity_key"):
        if row.period_end == boundary[row.subscription_id]:
            overage[row.subscription_id].append(_overage_line(row))
    for subscription in subscriptions:
        book.subscription_changed(subscription, at=subscription.current_period_start)
    book.write()
    return overage


def overage_invoiced(*, period_usage_ids: list[str], invoice_id: str) -> None:
    """Mark those closed periods as billed on `invoice_id` (a row already billed keeps its
    invoice). Caller holds lock_customer; no ledger entry."""
    PeriodUsage.objects.filter(id__in=period_usage_ids, invoice_id__isnull=True).update(
        invoice_id=invoice_id
    )


def overages_invoiced(*, invoices: dict[str, str]) -> None:
    """`overage_invoiced` for many closed periods at once: `invoices` maps a PeriodUsage id to
    the invoice that billed it; one UPDATE. Caller holds the customers' locks."""
    if not invoices:
        return
    PeriodUsage.objects.filter(id__in=list(invoices), invoice_id__isnull=True).update(
        invoice_id=Case(*[When(id=usage_id, then=Value(invoice_id))
                          for usage_id, invoice_id in invoices.items()],
                        output_field=CharField())
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

"""Keeping Balance rows true: terms from grants, lazy period resets, expired reservations.

Every function here runs inside a transaction whose caller already holds
lock_customer(customer.id) (DESIGN.md, Concurrency) and takes no lock itself. None posts a
ledger entry: overage is billed in arrears by the subscriptions side (entitlement_sync).
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Min

from billing.entitlement_rules import ZERO, consume_non_resetting, period_at
from billing.models import (
    Balance, BalanceGrant, BalanceLock, Customer, Entity, Feature, PeriodUsage, Price, SpendCap,
)

RESETTING_INTERVALS = ("day", "week", "month", "year")


def grant_resets(grant: BalanceGrant) -> bool:
    """Whether the grant gives its allowance anew each period (else it is spent once)."""
    if grant.source == BalanceGrant.Source.PURCHASE:
        return False
    return grant.reset_interval != "one_off"


def balance_settle(balance: Balance, at: datetime) -> Balance:
    """Give back reservations that expired by `at`, then close the period if it ended.

    Exactly once: a second call finds nothing due. Cheap when nothing is due (no query).
    """
    balance_release_expired(balance, at)
    if balance.period_end is not None and balance.period_end <= at:
        start, end = period_at(
            balance.period_anchor, balance.reset_interval, balance.reset_count,
            balance.anchor_day, at,
        )
        # The period that holds `at` never starts before the one that just ended (a plan's
        # period may be shorter than its price's interval, e.g. after a trial).
        start = max(start, balance.period_end)
        balance_close_period(balance, closed_at=at, next_start=start, next_end=end)
    return balance


def balance_release_expired(balance: Balance, at: datetime) -> int:
    """Mark the balance's open locks that expired by `at` expired and give their amounts
    back; answers how many there were."""
    if balance.next_lock_expiry is None or balance.next_lock_expiry > at:
        return 0
    expired = BalanceLock.objects.filter(
        balance_id=balance.id, status=BalanceLock.Status.OPEN, expires_at__lte=at
    )
    amounts = list(expired.values_list("amount", flat=True))
    expired.update(status=BalanceLock.Status.EXPIRED, finalized_at=at)
    balance.reserved -= sum(amounts, ZERO)
    balance_refresh_lock_expiry(balance)
    return len(amounts)


def balance_refresh_lock_expiry(balance: Balance) -> None:
    """Store the earliest expiry of the balance's open locks (and its reserved amount)."""
    balance.next_lock_expiry = BalanceLock.objects.filter(
        balance_id=balance.id, status=BalanceLock.Status.OPEN
    ).aggregate(first=Min("expires_at"))["first"]
    balance.save(update_fields=["reserved", "next_lock_expiry", "updated_at"])


def balance_close_period(
    balance: Balance, *, closed_at: datetime, next_start: datetime, next_end: datetime | None,
    close_end: datetime | None = None,
) -> PeriodUsage:
    """Record the balance's current period as a PeriodUsage (once per period start) and start
    [next_start, next_end) with nothing used. Never-resetting grants keep what the closed
    period did not spend of them; open reservations carry over."""
    values = closed_period_values(balance, closed_at=closed_at, close_end=close_end)
    lookup = {name: values.pop(name) for name in PERIOD_USAGE_KEY}
    closed, _ = PeriodUsage.objects.get_or_create(**lookup, defaults=values)
    granted = balance.granted
    if not balance.entity_key:
        granted = _spend_non_resetting_grants(balance)
    balance_reopen(balance, granted=granted, next_start=next_start, next_end=next_end)
    balance.save(update_fields=[
        "granted", "used", "threshold_sent", "period_start", "period_end", "updated_at",
    ])
    return closed


# What makes a closed period unique (PeriodUsage's period_usage_once).
PERIOD_USAGE_KEY = ("customer_id", "feature_id", "entity_key", "period_start")


def closed_period_values(balance: Balance, *, closed_at: datetime,
                         close_end: datetime | None = None) -> dict:
    """The PeriodUsage fields of the balance's current period closed at `closed_at` (ending at
    `close_end`, else its own end, else `closed_at`): the overage it owes. No query."""
    end = close_end or balance.period_end or closed_at
    units = max(balance.used - balance.granted, ZERO) if balance.overage_allowed else ZERO
    price = balance.overage_price or 0
    return {
        "customer_id": balance.customer_id, "feature_id": balance.feature_id,
        "entity_key": balance.entity_key, "period_start": balance.period_start,
        "merchant_id": balance.merchant_id, "environment": balance.environment,
        "balance_id": balance.id, "subscription_id": balance.subscription_id,
        "period_end": max(end, balance.period_start), "granted": balance.granted,
        "used": balance.used, "overage_units": units, "overage_price": price or None,
        "overage_amount": int((units * price).quantize(Decimal(1), rounding=ROUND_HALF_UP)),
        "closed_at": closed_at,
    }


def balance_reopen(balance: Balance, *, granted: Decimal, next_start: datetime,
                   next_end: datetime | None) -> None:
    """Start [next_start, next_end) on the balance in memory: `granted`, nothing used, no
    threshold announced (the caller saves it)."""
    balance.granted = granted
    balance.used = ZERO
    balance.threshold_sent = 0
    balance.period_start = next_start
    balance.period_end = next_end


def _spend_non_resetting_grants(balance: Balance) -> Decimal:
    """Take the closed period's usage beyond the recurring allowance off the never-resetting
    grants, oldest first; answer the next period's granted amount."""
    once = [
        grant for grant in BalanceGrant.objects.filter(
            customer_id=balance.customer_id, feature_id=balance.feature_id, active=True,
            per_entity=False,
        ).order_by("created_at", "id")
        if not grant_resets(grant)
    ]
    granted, changed = non_resetting_spent(balance, once)
    for grant in changed:
        grant.save(update_fields=["remaining"])
    return granted


def non_resetting_spent(balance: Balance, once: list[BalanceGrant]
                        ) -> tuple[Decimal, list[BalanceGrant]]:
    """The closed period's usage beyond the recurring allowance taken off `once` (the
    balance's active never-resetting grants, oldest first) in memory: the next period's
    granted amount, and the grants whose `remaining` changed (the caller saves them)."""
    remaining = [grant.remaining or ZERO for grant in once]
    recurring = balance.granted - sum(remaining, ZERO)
    left = consume_non_resetting(recurring, balance.used, remaining)
    changed = []
    for grant, amount in zip(once, left):
        if amount != grant.remaining:
            grant.remaining = amount
            changed.append(grant)
    return recurring + sum(left, ZERO), changed


def balance_apply_grants(
    *, customer: Customer, feature: Feature, entity_key: str, at: datetime
) -> Balance | None:
    """Make the balance's terms (granted, unlimited, overage, spend cap, period) match the
    customer's active grants of `feature` (per-entity grants for an entity's balance).

    When the period the grants call for starts later than the balance's current one (a
    renewal, or a new plan), the current period is closed first and usage starts again at 0.
    Creates the balance when grants exist and it does not; answers None when neither does.
    """
    grants = list(
        BalanceGrant.objects.filter(
            customer=customer, feature=feature, active=True, per_entity=bool(entity_key)
        ).select_related("subscription__price").order_by("created_at", "id")
    )
    balance = Balance.objects.filter(
        customer=customer, feature=feature, entity_key=entity_key
    ).first()
    if balance is None and not grants:
        return None
    terms = _terms(grants, feature, at)
    if balance is None:
        balance = balance_new(
            customer_id=customer.id, merchant_id=customer.merchant_id,
            environment=customer.environment, feature=feature, entity_key=entity_key,
            grants=grants, terms=terms, at=at,
        )
        balance.save()
        return balance

    def terms_after_close() -> dict:  # the close spent once-only grants through other rows
        for grant in grants:
            if not grant_resets(grant):
                grant.refresh_from_db(fields=["remaining"])
        return _terms(grants, feature, at)

    balance_realign(balance, grants=grants, terms=terms, at=at, close=balance_close_period,
                    terms_after_close=terms_after_close)
    balance.save()
    return balance


def balance_new(*, customer_id: str, merchant_id: str, environment: str, feature: Feature,
                entity_key: str, grants: list[BalanceGrant], terms: dict, at: datetime
                ) -> Balance:
    """A new balance (not saved) following `grants` (oldest first), in the period holding
    `at`, with `terms` (grant_terms). No query."""
    schedule = balance_schedule(grants, at)
    anchor, interval, count, day, driver = schedule or (at, None, 1, None, None)
    start, end = schedule_period(schedule, grants, at)
    return Balance(
        merchant_id=merchant_id, environment=environment, customer_id=customer_id,
        feature=feature, entity_key=entity_key, period_anchor=anchor, period_start=start,
        period_end=end, reset_interval=interval, reset_count=count, anchor_day=day,
        subscription=driver, **terms,
    )


def balance_realign(balance: Balance, *, grants: list[BalanceGrant], terms: dict,
                    at: datetime, close, terms_after_close=None) -> None:
    """Give the balance the period schedule of `grants` (oldest first) and `terms`, in memory
    (the caller saves it). When the period they call for starts later than the balance's
    current one (a renewal, or a new plan), `close` (balance_close_period's signature: the
    one-by-one path's, or a batch's in-memory one) closes the current period first, and the
    terms are then `terms_after_close()`: the close spent never-resetting grants (purchases,
    manual credits), and what it spent must not come back in the new period's `granted`."""
    schedule = balance_schedule(grants, at)
    if schedule is None:
        for name, value in terms.items():
            setattr(balance, name, value)
        return
    anchor, interval, count, day, driver = schedule
    start, end = schedule_period(schedule, grants, at)
    if start > balance.period_start:
        # The old period closes on its own terms, for the plan that drove it.
        close(balance, closed_at=at, next_start=start, next_end=end,
              close_end=min(balance.period_end or start, start))
        if terms_after_close is not None:
            terms = terms_after_close()
    balance.period_anchor, balance.reset_interval = anchor, interval
    balance.reset_count, balance.anchor_day, balance.subscription = count, day, driver
    balance.period_end = end
    for name, value in terms.items():
        setattr(balance, name, value)


def schedule_period(schedule, grants: list[BalanceGrant], at: datetime):
    """The period holding `at`: the driving plan's own current period when the balance follows
    its billing periods and `at` lies in it, else the schedule's period."""
    anchor, interval, count, day, driver = schedule or (at, None, 1, None, None)
    follows = any(
        g.subscription_id == getattr(driver, "id", None) and g.reset_interval is None
        and g.source == BalanceGrant.Source.SUBSCRIPTION for g in grants
    )
    if follows and driver.current_period_end is not None and (
        driver.current_period_start <= at < driver.current_period_end
    ):
        return driver.current_period_start, driver.current_period_end
    return period_at(anchor, interval, count, day, at)


def _terms(grants: list[BalanceGrant], feature: Feature, at: datetime) -> dict:
    cap = None
    if feature.type != Feature.Type.BOOLEAN:
        cap = spend_cap_for(grants[0].customer_id if grants else None, feature, grants)
    return grant_terms(grants, feature, cap)


def grant_terms(grants: list[BalanceGrant], feature: Feature, spend_cap: int | None) -> dict:
    """A balance's terms from its active `grants` (oldest first), with the spend cap that
    applies (spend_cap_for); no query."""
    if feature.type == Feature.Type.BOOLEAN:
        return {"is_boolean": True, "granted": Decimal(len(grants)), "unlimited": False,
                "overage_allowed": False, "overage_price": None, "spend_cap": None}
    granted = sum(
        ((g.allowance if grant_resets(g) else (g.remaining or ZERO)) for g in grants), ZERO
    )
    overage = [g for g in grants if g.overage_allowed]
    prices = [g.overage_price for g in overage if g.overage_price is not None]
    return {
        "is_boolean": False, "granted": granted, "unlimited": any(g.unlimited for g in grants),
        "overage_allowed": bool(overage), "overage_price": min(prices) if prices else None,
        "spend_cap": spend_cap,
    }


def spend_cap_for(customer_id: str | None, feature: Feature, grants: list[BalanceGrant]):
    """The customer's own cap of `feature`, else the lowest default cap of the products that
    grant it, else None (no cap)."""
    if customer_id is None:
        return None
    own = SpendCap.objects.filter(customer_id=customer_id, feature=feature).first()
    if own is not None:
        return own.cap_cents
    products = {g.subscription.product_id for g in grants if g.subscription_id}
    caps = SpendCap.objects.filter(product_id__in=products, feature=feature)
    return min((cap.cap_cents for cap in caps), default=None)


def balance_schedule(grants: list[BalanceGrant], at: datetime):
    """(anchor, interval, count, anchor day, driving subscription) of the balance's periods,
    or None when no grant resets. A plan's grant without its own resetInterval follows the
    plan's billing periods; otherwise the first grant with its own interval sets it."""
    for grant in grants:
        subscription = grant.subscription
        if grant.source == BalanceGrant.Source.SUBSCRIPTION and grant.reset_interval is None:
            price = subscription.price
            if price is None or price.type != Price.Type.RECURRING:
                return subscription.current_period_start, None, 1, None, subscription
            return (subscription.current_period_start, price.billing_interval,
                    price.billing_interval_count or 1, subscription.billing_anchor_day,
                    subscription)
    for grant in grants:
        if grant.reset_interval in RESETTING_INTERVALS:
            subscription = grant.subscription
            anchor = subscription.current_period_start if subscription else grant.created_at
            day = subscription.billing_anchor_day if subscription else None
            return anchor, grant.reset_interval, 1, day, subscription
    return None


def customer_feature_balances(*, customer: Customer, feature: Feature, at: datetime) -> None:
    """Apply the grants of `feature` to the customer's own balance and to each live entity's."""
    balance_apply_grants(customer=customer, feature=feature, entity_key="", at=at)
    has_per_entity = BalanceGrant.objects.filter(
        customer=customer, feature=feature, per_entity=True
    ).exists()
    if not has_per_entity:
        return
    for key in Entity.objects.filter(customer=customer, deleted_at__isnull=True).values_list(
        "entity_key", flat=True
    ):
        balance_apply_grants(customer=customer, feature=feature, entity_key=key, at=at)


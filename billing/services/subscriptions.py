"""Building blocks of the subscription flows: what a price costs, where a period ends, and the
writes every flow shares (start a subscription, end one, announce a change).

Each function runs inside its caller's transaction, after the caller took
lock_customer(customer.id); none posts a ledger entry itself.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder

from billing import pricing
from billing.models import Price, Product, Subscription
from billing.periods import next_period_end
from billing.services import entitlement_sync
from billing.services.audit import Actor, audit_records
from billing.services.webhooks import emit_events
from cynco.tenancy import Scope

Status = Subscription.Status


def price_amount(price: Price | None, quantity: int | Decimal) -> int:
    """What `quantity` units of `price` cost for one period (or once), by
    billing.pricing.price_amount: per unit, or by its tier table. No price costs nothing."""
    if price is None:
        return 0
    return pricing.price_amount(
        amount=price.amount, quantity=quantity, tiers_mode=price.tiers_mode,
        tiers=price.tiers if price.tiers_mode else None,
    )


def is_recurring(price: Price | None) -> bool:
    return price is not None and price.type == Price.Type.RECURRING


def anchor_day_for(price: Price | None, start: datetime, requested: int | None) -> int | None:
    """The day of the month a monthly or yearly subscription renews on: the requested
    `billingAnchorDay`, else the day its first paid period starts (kept, so 31 Jan → 28 Feb →
    31 Mar). Weekly and one-off prices have none."""
    if not is_recurring(price) or price.billing_interval == Price.Interval.WEEK:
        return None
    return requested or start.day


def first_paid_start(at: datetime, trial_end: datetime | None) -> datetime:
    """When a subscription started at `at` first pays: at once, or when its trial ends. The
    billing anchor is taken from this moment, so a trial ends into one full period (a 14-day
    trial from 1 Dec pays 15 Dec → 15 Jan, not 15 Dec → 1 Jan)."""
    return trial_end if trial_end is not None else at


def first_paid_period(price: Price | None, at: datetime, trial_end: datetime | None,
                      requested_anchor: int | None) -> tuple[datetime, datetime | None]:
    """The first paid period of `price` for a subscription started at `at`: what subscribe
    starts, what /preview shows and what the period-end job renews into."""
    start = first_paid_start(at, trial_end)
    return start, period_end_after(price, start, anchor_day_for(price, start, requested_anchor))


def period_end_after(price: Price | None, start: datetime, anchor_day: int | None):
    """The end of the period of `price` that starts at `start` (None: it never ends)."""
    if not is_recurring(price):
        return None
    return next_period_end(
        start, price.billing_interval or "month", price.billing_interval_count or 1, anchor_day
    )


def subscription_start(
    *, scope: Scope, customer, product: Product, price: Price | None, status: str, at: datetime,
    quantity: int = 1, anchor_day: int | None = None, trial_end: datetime | None = None,
    metadata: dict | None = None, checkout=None,
) -> Subscription:
    """Write a new subscription to the product's latest version, its first period from `at`
    (to `trial_end` when trialing, anchored on the trial's end), and sync its grants
    (entitlement_sync)."""
    anchor = anchor_day_for(price, first_paid_start(at, trial_end), anchor_day)
    end = trial_end if trial_end is not None else period_end_after(price, at, anchor)
    subscription = Subscription.objects.create(
        merchant_id=scope.merchant_id, environment=scope.environment, customer=customer,
        product=product, product_version=product.latest_version, price=price, status=status,
        current_period_start=at, current_period_end=end, quantity=quantity,
        billing_anchor_day=anchor, trial_end=trial_end, metadata=metadata or {},
        checkout=checkout,
    )
    if status in Subscription.GRANTING_STATUSES:
        entitlement_sync.subscription_changed(subscription=subscription, at=at)
    return subscription


def subscription_activate(
    *, subscription: Subscription, at: datetime, trial_end: datetime | None = None,
    anchor_day: int | None = None,
) -> Subscription:
    """A subscription that waited (for a checkout) starts now: active (or trialing until
    `trial_end`, anchored on the trial's end), its first period from `at`, its grants
    synced."""
    price = subscription.price
    anchor = anchor_day_for(price, first_paid_start(at, trial_end), anchor_day)
    subscription.status = Status.TRIALING if trial_end else Status.ACTIVE
    subscription.current_period_start = at
    subscription.current_period_end = trial_end or period_end_after(price, at, anchor)
    subscription.billing_anchor_day = anchor
    subscription.trial_end = trial_end
    subscription.save()
    entitlement_sync.subscription_changed(subscription=subscription, at=at)
    return subscription


def subscription_end(
    *, subscription: Subscription, status: str, at: datetime, replaced_by=None
) -> Subscription:
    """End `subscription` now (canceled or expired), taking its grants away."""
    subscription.status = status
    subscription.canceled_at = at
    subscription.cancel_at_period_end = False
    subscription.scheduled_price = None
    subscription.next_retry_at = None
    subscription.replaced_by = replaced_by
    subscription.save()
    entitlement_sync.subscription_changed(subscription=subscription, at=at)
    return subscription


def summary_data(subscription: Subscription) -> dict:
    """SubscriptionSummary of API.md."""
    return {
        "id": subscription.id,
        "status": subscription.status,
        "productSlug": subscription.product.slug,
        "currentPeriodStart": subscription.current_period_start,
        "currentPeriodEnd": subscription.current_period_end,
        "cancelAtPeriodEnd": subscription.cancel_at_period_end,
        "quantity": subscription.quantity,
    }


def announce(
    *, scope: Scope, subscription: Subscription, events: list[str], actor: Actor,
    details: dict | None = None,
) -> None:
    """Emit each `subscription.*` event and write its audit row (caller's transaction)."""
    announce_many(scope=scope, announcements=[(subscription, events, details)], actor=actor)


def announce_many(
    *, scope: Scope, announcements: list[tuple[Subscription, list[str], dict | None]],
    actor: Actor,
) -> None:
    """`announce` for many (subscription, events, details) at once (a batch job): the same
    events and audit rows, one insert each."""
    events, records = [], []
    for subscription, names, details in announcements:
        details = json.loads(json.dumps(details or {}, cls=DjangoJSONEncoder))
        data = {**summary_data(subscription), "customerId": subscription.customer_id, **details}
        for event in names:
            events.append((event, data))
            records.append({
                "event": event, "customer_id": subscription.customer_id,
                "subscription_id": subscription.id, "resource_type": "subscription",
                "resource_id": subscription.id, "details": details,
            })
    emit_events(scope=scope, events=events)
    audit_records(scope=scope, actor=actor, records=records)

"""Fulfilling a referral reward's free product (`FreeProductGrant`): the customer gets the
product free for the granted number of billing periods.

Called by billing.services.rewards when the redemption is made, inside its transaction (both
customers' locks are held). No money moves and no ledger entry is posted.

- Nothing current in the product's group, or only a free plan: a new subscription starts now,
  `trialing` for `periods` billing periods of the product's price (its free plan ends,
  replaced). At the end it renews like any trial: charged to a saved card, else dunning.
- The same product already current: its current period is extended by `periods` periods.
- Another paid plan of the group (or a product without a recurring price): the grant stays
  `pending` for the merchant to settle; nothing is changed behind the customer's back.
"""

from __future__ import annotations

from datetime import datetime

from billing.models import FreeProductGrant, Subscription
from billing.selectors.plans import plan_price, plans_eligibility
from billing.services.audit import Actor
from billing.services.subscriptions import (
    announce,
    anchor_day_for,
    is_recurring,
    period_end_after,
    price_amount,
    subscription_end,
    subscription_start,
)
from cynco.tenancy import Scope

Status = Subscription.Status


def free_product_grant_fulfil(*, scope: Scope, grant: FreeProductGrant, at: datetime,
                              actor: Actor) -> FreeProductGrant:
    """Turn a pending grant into free time on its product (see the module). Caller's
    transaction, holding lock_customer(grant.customer_id). Marks it `fulfilled` with its
    subscription, or leaves it `pending`."""
    customer, product = grant.customer, grant.product
    eligibility = plans_eligibility(customer, [product], at)[product.id]
    held = None
    if eligibility.current_subscription_id:
        held = Subscription.objects.select_related("product", "price").get(
            pk=eligibility.current_subscription_id)
    price = plan_price(product, held.price if held else None)
    if grant.status != FreeProductGrant.Status.PENDING or not is_recurring(price):
        return grant
    if held is not None and held.product_id == product.id and held.current_period_end:
        held.current_period_end = _after_periods(price, held.current_period_end, grant.periods,
                                                 held.billing_anchor_day)
        held.save(update_fields=["current_period_end", "updated_at"])
        subscription, events = held, ["subscription.updated"]
    elif held is None or not price_amount(held.price, held.quantity):
        anchor = anchor_day_for(price, at, None)
        subscription = subscription_start(
            scope=scope, customer=customer, product=product, price=price,
            status=Status.TRIALING, at=at, anchor_day=anchor,
            trial_end=_after_periods(price, at, grant.periods, anchor),
            metadata={"freeProductGrantId": grant.id},
        )
        events = ["subscription.created", "subscription.activated"]
        if held is not None:
            subscription_end(subscription=held, status=Status.CANCELED, at=at,
                             replaced_by=subscription)
    else:
        return grant
    grant.status = FreeProductGrant.Status.FULFILLED
    grant.subscription_id, grant.fulfilled_at = subscription.id, at
    grant.save(update_fields=["status", "subscription_id", "fulfilled_at"])
    announce(scope=scope, subscription=subscription, events=events, actor=actor,
             details={"freeProductGrantId": grant.id, "freePeriods": grant.periods})
    return grant


def _after_periods(price, start: datetime, periods: int, anchor_day: int | None) -> datetime:
    end = start
    for _ in range(periods):
        end = period_end_after(price, end, anchor_day)
    return end

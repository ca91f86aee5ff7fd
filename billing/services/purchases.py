"""One-time purchases: recorded as a subscription row that is complete at once (status
`expired`, period [at, at]) so it never blocks a later purchase, its units granted for good."""

from __future__ import annotations

from billing.models import Subscription
from billing.services import entitlement_sync
from billing.services.subscriptions import announce

Status = Subscription.Status


def purchase_record(*, scope, customer, product, price, quantity, at, actor, metadata=None,
                    subscription=None):
    """Record a paid (or free) one-time purchase as a complete subscription row and grant its
    units (entitlement_sync.purchase_granted)."""
    if subscription is None:
        subscription = Subscription.objects.create(
            merchant_id=scope.merchant_id, environment=scope.environment, customer=customer,
            product=product, product_version=product.latest_version, price=price,
            status=Status.EXPIRED, current_period_start=at, current_period_end=at,
            quantity=quantity, metadata=metadata or {},
        )
    else:
        subscription.status = Status.EXPIRED
        subscription.current_period_start = subscription.current_period_end = at
        subscription.save()
    entitlement_sync.purchase_granted(subscription=subscription, quantity=quantity, at=at)
    announce(scope=scope, subscription=subscription, events=["subscription.created"],
             actor=actor, details={"purchase": True})
    return subscription

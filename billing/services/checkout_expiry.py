"""Checkouts a customer never finished: canceled when replaced (the customer subscribed to
something else of the group, or canceled) or when `CHECKOUT_EXPIRY_HOURS` passed, with what
they held given back — the subscriptions waiting for them end (`expired`) and the coupon
redemption made for them is released, so an abandoned page does not use up a coupon.

A checkout waiting for 3-D Secure (`requires_action`) is not expired by time: the customer may
still complete it, and a payment must never land on a canceled checkout. Should one land
anyway (a gateway event for a checkout canceled meanwhile), `checkouts.checkout_fulfil` keeps
the checkout canceled, starts nothing and records `checkout.paid_after_cancel` in the audit
trail and the log for the operator to refund (docs/subscriptions.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from billing.models import Checkout, Subscription
from billing.services.audit import CRON, SYSTEM, Actor, audit_record
from billing.services.coupons import coupon_redemption_release
from billing.services.subscriptions import subscription_end
from cynco.locks import try_lock_customer
from cynco.tenancy import Scope

UNFINISHED = (Checkout.Status.OPEN, Checkout.Status.REQUIRES_ACTION, Checkout.Status.FAILED)
EXPIRABLE = (Checkout.Status.OPEN, Checkout.Status.FAILED)
BATCH = 200
Status = Subscription.Status


def checkout_cancel(*, checkout: Checkout, at: datetime, actor: Actor, reason: str) -> bool:
    """Cancel an unfinished checkout: it and its waiting subscriptions end, its coupon
    redemption is given back. Caller's transaction and the customer's lock. False when it was
    finished already (completed or canceled)."""
    scope = Scope(checkout.merchant_id, checkout.environment)
    changed = Checkout.objects.filter(pk=checkout.pk, status__in=UNFINISHED).update(
        status=Checkout.Status.CANCELED, failure_code=reason,
        failure_message=f"Checkout {reason}")
    if not changed:
        return False
    for waiting in Subscription.objects.filter(checkout_id=checkout.pk,
                                               status=Subscription.Status.CHECKOUT):
        subscription_end(subscription=waiting, status=Subscription.Status.EXPIRED, at=at)
    redemption_id = (checkout.plan or {}).get("redemptionId")
    if redemption_id:
        coupon_redemption_release(scope=scope, redemption_id=redemption_id, at=at,
                                  actor=actor, reason=f"checkout_{reason}")
    audit_record(scope=scope, event=f"checkout.{reason}", actor=actor,
                 customer_id=checkout.customer_id, resource_type="checkout",
                 resource_id=checkout.pk, details={"amount": checkout.amount})
    return True


def checkout_abandon(subscription: Subscription, at: datetime, actor: Actor = SYSTEM) -> None:
    """A subscription waiting for a checkout that the customer left (replaced by another
    subscribe, or canceled): the checkout is canceled, what waited for it ends and its coupon
    redemption is given back (checkout_expiry.checkout_cancel)."""
    if subscription.checkout is not None:
        checkout_cancel(checkout=subscription.checkout, at=at, actor=actor, reason="canceled")
        subscription.refresh_from_db()
    if subscription.status == Status.CHECKOUT:
        subscription_end(subscription=subscription, status=Status.EXPIRED, at=at)


def checkouts_expire(*, scope: Scope, at: datetime) -> int:
    """Cancel `scope`'s open or failed checkouts created `CHECKOUT_EXPIRY_HOURS` or more
    before `at`, one transaction each; a customer busy right now is left for the next run.
    Answers how many expired."""
    cutoff = at - timedelta(hours=settings.CHECKOUT_EXPIRY_HOURS)
    expired, skipped = 0, set()
    while True:
        due = list(Checkout.objects.for_scope(scope)
                   .filter(status__in=EXPIRABLE, created_at__lte=cutoff)
                   .exclude(pk__in=skipped).order_by("created_at", "id")
                   .values_list("pk", "customer_id")[:BATCH])
        for checkout_id, customer_id in due:
            with transaction.atomic():
                checkout = None
                if try_lock_customer(customer_id):
                    checkout = (Checkout.objects.select_for_update()
                                .filter(pk=checkout_id, status__in=EXPIRABLE).first())
                if checkout is None:
                    skipped.add(checkout_id)
                    continue
                expired += checkout_cancel(checkout=checkout, at=at, actor=CRON,
                                           reason="expired")
        if len(due) < BATCH:
            return expired

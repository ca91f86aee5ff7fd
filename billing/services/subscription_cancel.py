"""`/cancel`: end one product's subscription, or all of a customer's, at period end or now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from billing.models import Subscription
from billing.services.audit import Actor
from billing.services.checkout_claims import (
    paying_checkouts, refuse_while_paying, replaced_by, waiting_for,
)
from billing.services.checkout_expiry import checkout_abandon
from billing.services.subscription_updates import UpdateRequest, update_apply
from cynco.locks import lock_customer
from cynco.tenancy import Scope


@dataclass(frozen=True)
class CancelResult:
    canceled: bool
    effective_at: datetime | None
    refund_amount: int = 0


def cancel_customer(*, scope: Scope, customer, product, immediate: bool, reason: str,
                    at: datetime, actor: Actor) -> CancelResult:
    """Cancel the customer's current subscription to `product` (None: every one) at the end of
    its period, or now with the unused part refunded (`immediate`, like cancel_immediately).

    Takes lock_customer(customer.id) first; one transaction. Nothing to cancel answers
    `canceled: false`; 409 CONFLICT (nothing canceled) while a plan change for what it would
    end is being paid (billing.services.checkout_claims). `effectiveAt` is when the last access ends. Abandoned checkouts are
    dropped. Emits subscription.canceled per subscription.
    """
    with transaction.atomic():
        lock_customer(customer.id)
        rows = customer.subscriptions.select_related("product", "price").select_for_update(
            of=("self",)).filter(status__in=Subscription.CURRENT_STATUSES)
        if product is not None:
            rows = rows.filter(product=product)
        # A change being paid right now for (or replacing) what would end here wins: the
        # cancel is refused and changes nothing, rather than the payment landing on nothing.
        ending = {row.id for row in rows}
        for paying in paying_checkouts(customer):
            if (waiting_for(paying) | replaced_by(paying)) & ending:
                refuse_while_paying(paying, doing="nothing was canceled")
        effective, refund, canceled = None, 0, False
        action = "cancel_immediately" if immediate else "cancel_end_of_cycle"
        for subscription in rows.order_by("created_at"):
            if subscription.status == Subscription.Status.CHECKOUT:
                checkout_abandon(subscription, at, actor)
                continue
            if subscription.cancel_at_period_end and not immediate:
                plan_end = subscription.current_period_end
            else:
                plan = update_apply(scope, subscription, UpdateRequest(cancel_action=action),
                                    at, actor)
                plan_end, refund = plan.effective_at, refund + (plan.refund_amount or 0)
            canceled = True
            effective = max(filter(None, [effective, plan_end]), default=None)
        if reason and canceled:
            Subscription.objects.filter(customer=customer, canceled_at=at).update(
                metadata={"cancelReason": reason})
        return CancelResult(canceled, effective, refund)

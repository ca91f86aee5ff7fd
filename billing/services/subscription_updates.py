"""Changing a subscription in place: cancel (at period end or now), uncancel, pause, resume,
quantity. `update_plan` prices a change without writing anything — what
`/subscriptions/preview-update` shows — and `subscription_update` applies exactly that plan, so
a preview always equals the change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction

from billing.models import Invoice, Subscription
from billing.proration import unused_credit
from billing.services import entitlement_sync
from billing.services.audit import Actor
from billing.services.final_overage import bill_overage_so_far
from billing.services.invoice_collection import collect_after_commit
from billing.services.invoices import LineDraft, invoice_issue
from billing.services.refunds import refund_decide, unused_refund
from billing.services.subscriptions import announce, price_amount, subscription_end
from cynco.errors import Conflict, NotFound, ValidationFailed
from cynco.locks import lock_customer
from cynco.tenancy import Scope

Status = Subscription.Status


@dataclass(frozen=True)
class UpdateRequest:
    cancel_action: str | None = None  # cancel_end_of_cycle | cancel_immediately | uncancel
    pause_action: str | None = None  # pause | resume
    resume_at: datetime | None = None
    quantity: int | None = None
    prorate: bool = True


@dataclass
class UpdatePlan:
    action: str
    line_items: list[dict] = field(default_factory=list)
    total: int = 0
    refund_amount: int | None = None
    effective_at: datetime | None = None


def update_plan(subscription: Subscription, request: UpdateRequest, at: datetime) -> UpdatePlan:
    """What `request` would do to `subscription` at `at` (no writes). Raises Conflict when the
    change does not apply to the subscription's status."""
    end = subscription.current_period_end
    if request.cancel_action == "cancel_end_of_cycle":
        _require(subscription, (Status.ACTIVE, Status.TRIALING, Status.PAST_DUE, Status.PAUSED))
        return UpdatePlan("canceled", effective_at=end or at)
    if request.cancel_action == "uncancel":
        if not subscription.cancel_at_period_end:
            raise Conflict("This subscription is not set to cancel")
        return UpdatePlan("uncanceled")
    if request.cancel_action == "cancel_immediately":
        refund = unused_refund(subscription, at) if request.prorate else 0
        lines = [{"title": f"Refund for {subscription.product.name}",
                  "description": "Unused part of the current period", "amount": -refund}]
        return UpdatePlan("canceled_immediately", lines if refund else [], -refund, refund, at)
    if request.pause_action == "pause":
        _require(subscription, (Status.ACTIVE, Status.TRIALING))
        return UpdatePlan("paused", effective_at=at)
    if request.pause_action == "resume":
        _require(subscription, (Status.PAUSED,))
        return UpdatePlan("resumed", effective_at=at)
    return _quantity_plan(subscription, request, at)


def _quantity_plan(subscription, request, at) -> UpdatePlan:
    _require(subscription, (Status.ACTIVE, Status.TRIALING))
    old, new = subscription.quantity, request.quantity
    if new == old:
        return UpdatePlan("quantity_updated")
    end = subscription.current_period_end
    charge = 0
    if (request.prorate and subscription.status == Status.ACTIVE and end is not None
            and at < end):
        difference = price_amount(subscription.price, new) - price_amount(subscription.price, old)
        # The difference for the rest of the period: positive is charged, negative credited.
        sign = 1 if difference >= 0 else -1
        charge = sign * unused_credit(abs(difference), subscription.current_period_start, end, at)
    lines = []
    if charge:
        lines.append({"title": f"{subscription.product.name} × {new} (was {old})",
                      "description": "Rest of the current period", "amount": charge})
    return UpdatePlan("quantity_updated", lines, charge, None, at)


def _require(subscription, statuses) -> None:
    if subscription.status not in statuses:
        raise Conflict(f"A {subscription.status} subscription cannot be changed this way")


def subscription_for(customer, product) -> Subscription:
    """The customer's current subscription to `product` (NotFound when there is none)."""
    subscription = (customer.subscriptions.select_related("product", "price")
                    .filter(product=product, status__in=Subscription.CURRENT_STATUSES)
                    .exclude(status=Status.CHECKOUT).order_by("-created_at").first())
    if subscription is None:
        raise NotFound(f"'{customer.external_id}' has no current subscription to "
                       f"'{product.slug}'")
    return subscription


def subscription_update(*, scope: Scope, customer, product, request: UpdateRequest,
                        at: datetime, actor: Actor) -> tuple[Subscription, UpdatePlan]:
    """Apply `request` to the customer's subscription to `product` (update_plan's plan).

    Takes lock_customer(customer.id) first. A quantity increase mid-period issues an invoice
    for the prorated difference (ledger: invoice finalized); a cancel_immediately ends access
    now and refunds the unused part (billing.services.refunds: sent through the gateway after
    commit, posted DR 4910 / CR 1100-<gateway>). Emits subscription.* events and audit rows.
    """
    with transaction.atomic():
        lock_customer(customer.id)
        subscription = subscription_for(customer, product)
        subscription = Subscription.objects.select_related("product", "price").select_for_update(
            of=("self",)).get(pk=subscription.pk)
        return subscription, update_apply(scope, subscription, request, at, actor)


def update_apply(scope, subscription, request: UpdateRequest, at, actor) -> UpdatePlan:
    """Apply `request` to `subscription` (caller's transaction and customer lock)."""
    plan = update_plan(subscription, request, at)
    _APPLY[plan.action](scope, subscription, request, plan, at, actor)
    return plan


def _cancel_at_end(scope, subscription, request, plan, at, actor) -> None:
    if subscription.current_period_end is None:
        subscription_end(subscription=subscription, status=Status.CANCELED, at=at)
        plan.effective_at = at
    else:
        subscription.cancel_at_period_end = True
        subscription.scheduled_price = None
        subscription.save(update_fields=["cancel_at_period_end", "scheduled_price",
                                         "updated_at"])
    announce(scope=scope, subscription=subscription, events=["subscription.canceled"],
             actor=actor, details={"effectiveAt": plan.effective_at, "atPeriodEnd": True})


def _uncancel(scope, subscription, request, plan, at, actor) -> None:
    subscription.cancel_at_period_end = False
    subscription.save(update_fields=["cancel_at_period_end", "updated_at"])
    announce(scope=scope, subscription=subscription, events=["subscription.updated"],
             actor=actor, details={"change": "uncanceled"})


def _cancel_now(scope, subscription, request, plan, at, actor) -> None:
    bill_overage_so_far(scope=scope, subscription=subscription, at=at)
    if plan.refund_amount:
        refund_decide(scope=scope, subscription=subscription, amount=plan.refund_amount,
                      reason="Canceled immediately: unused part of the period", at=at,
                      actor=actor)
    subscription_end(subscription=subscription, status=Status.CANCELED, at=at)
    announce(scope=scope, subscription=subscription, events=["subscription.canceled"],
             actor=actor, details={"immediate": True, "refundAmount": plan.refund_amount})


def _pause(scope, subscription, request, plan, at, actor) -> None:
    subscription.status = Status.PAUSED
    subscription.paused_at = at
    subscription.resume_at = request.resume_at
    subscription.save()
    entitlement_sync.subscription_changed(subscription=subscription, at=at)
    announce(scope=scope, subscription=subscription, events=["subscription.paused"],
             actor=actor, details={"resumeAt": request.resume_at})


def subscription_resume_now(scope, subscription, at, actor) -> None:
    """Resume a paused subscription at `at`: the part of the period left when it was paused
    is given back (the period end moves by the paused time), so pausing costs nothing."""
    if subscription.current_period_end is not None and subscription.paused_at is not None:
        subscription.current_period_end += max(at - subscription.paused_at, timedelta(0))
    subscription.status = Status.TRIALING if subscription.trial_end and (
        subscription.current_period_end == subscription.trial_end) else Status.ACTIVE
    subscription.paused_at = subscription.resume_at = None
    subscription.save()
    entitlement_sync.subscription_changed(subscription=subscription, at=at)
    announce(scope=scope, subscription=subscription, events=["subscription.resumed"],
             actor=actor)


def _resume(scope, subscription, request, plan, at, actor) -> None:
    subscription_resume_now(scope, subscription, at, actor)


def _quantity(scope, subscription, request, plan, at, actor) -> None:
    if request.quantity == subscription.quantity:
        return
    old = subscription.quantity
    subscription.quantity = request.quantity
    subscription.save(update_fields=["quantity", "updated_at"])
    entitlement_sync.subscription_changed(subscription=subscription, at=at)
    if plan.total:
        item = plan.line_items[0]
        invoice = invoice_issue(
            scope=scope, customer=subscription.customer, subscription=subscription,
            reason=Invoice.Reason.SUBSCRIPTION_UPDATE, currency=subscription.price.currency,
            lines=[LineDraft("proration", item["title"], plan.total,
                             period_start=at, period_end=subscription.current_period_end)],
            at=at,
        )
        collect_after_commit(scope=scope, invoice=invoice)
    announce(scope=scope, subscription=subscription, events=["subscription.updated"],
             actor=actor, details={"change": "quantity", "from": old, "to": request.quantity})


_APPLY = {
    "canceled": _cancel_at_end, "uncanceled": _uncancel, "canceled_immediately": _cancel_now,
    "paused": _pause, "resumed": _resume, "quantity_updated": _quantity,
}


def validate_update(request: UpdateRequest) -> None:
    """Exactly one change per call: a cancelAction, a pauseAction or a quantity."""
    given = [name for name, value in (("cancelAction", request.cancel_action),
                                      ("pauseAction", request.pause_action),
                                      ("quantity", request.quantity)) if value is not None]
    if len(given) != 1:
        raise ValidationFailed(
            "Give exactly one of cancelAction, pauseAction or quantity",
            details=[{"field": "body", "message":
                      "Give exactly one of cancelAction, pauseAction or quantity."}],
        )
    if request.resume_at is not None and request.pause_action != "pause":
        raise ValidationFailed.field("resumeAt", "Only with pauseAction 'pause'.")

"""Hosted checkouts: opening the gateway's session, and finishing what a paid checkout bought.

`checkout_open` calls the gateway, so it runs with no transaction open (DESIGN.md). What the
customer does on the page reaches `checkout_fulfil` two ways: directly from our checkout page
and the `/test/checkouts/{id}/complete` helper, and from the gateway's `checkout.completed`
event (`on_gateway_event`, registered in settings.GATEWAY_EVENT_HANDLERS). Fulfilling is
idempotent, so whichever comes second changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction

from billing.models import Checkout, Invoice, Subscription
from billing.services.audit import SYSTEM, Actor
from billing.services.checkout_claims import (
    charge_token, checkout_claim_for_charge, checkout_claim_release, replaced_by,
)
from billing.services.checkout_expiry import checkout_cancel
from billing.services.final_overage import overage_cut, replaced_retire
from billing.services.invoices import LineDraft, invoice_issue, invoice_mark_paid
from billing.services.purchases import purchase_record
from billing.services.subscriptions import (
    announce,
    subscription_activate,
)
from billing.services.unapplied_payments import unapplied_payment_record
from cynco import clock
from cynco.errors import NotFound
from cynco.locks import lock_customer
from cynco.tenancy import Scope
from gateways.base import EventType, GatewayNotFound
from gateways.sandbox.checkout import sandbox_checkout_complete
from gateways.services.checkout import (
    checkout_charge_record,
    checkout_session_create,
    gateway_in_use,
)

logger = logging.getLogger(__name__)
Status = Subscription.Status


def checkout_open(*, scope: Scope, checkout: Checkout) -> Checkout:
    """Open the gateway's hosted session for `checkout` (once: the key is derived from its id)
    and keep its URL. No transaction may be open; takes no lock and posts nothing."""
    if checkout.url:
        return checkout
    session = checkout_session_create(
        scope=scope, amount=checkout.amount, currency=checkout.currency,
        customer_reference=checkout.customer_id, description=checkout.description,
        success_url=checkout.success_url, cancel_url=checkout.cancel_url,
        idempotency_key=f"{checkout.id}:session", save_payment_method=True,
        mode=checkout.mode, metadata={"cynco_checkout": checkout.id},
    )
    Checkout.objects.filter(pk=checkout.pk).update(
        gateway_session_id=session.session_id, url=session.redirect_url
    )
    checkout.gateway_session_id, checkout.url = session.session_id, session.redirect_url
    return checkout


def checkout_find(scope: Scope, checkout_id: str) -> Checkout:
    checkout = Checkout.objects.for_scope(scope).filter(pk=checkout_id).first()
    if checkout is None:
        raise NotFound(f"No checkout '{checkout_id}'")
    return checkout


@dataclass(frozen=True)
class CheckoutResult:
    checkout: Checkout
    status: str  # completed | failed | requires_action
    failure_code: str = ""
    failure_message: str = ""
    action_url: str = ""
    redirect_url: str = ""


def checkout_pay_with_card(*, scope: Scope, checkout: Checkout, card_number: str,
                           actor: Actor = SYSTEM) -> CheckoutResult:
    """What the hosted page does with a sandbox card: pay the gateway session, then fulfil the
    checkout when it completed. A decline leaves it open for another card; 3-D Secure answers
    `requires_action` with the page that completes it. No transaction may be open."""
    if checkout.status == Checkout.Status.COMPLETED:
        return CheckoutResult(checkout, "completed", redirect_url=checkout.success_url)
    if checkout.status == Checkout.Status.CANCELED:
        return CheckoutResult(checkout, "failed", "checkout_canceled",
                              "This checkout was replaced or canceled")
    checkout = checkout_open(scope=scope, checkout=checkout)
    token = charge_token(None)
    if not checkout_claim_for_charge(checkout_id=checkout.id, token=token):
        checkout.refresh_from_db()  # replaced meanwhile: never charge a canceled checkout
        if checkout.status == Checkout.Status.CANCELED:
            return CheckoutResult(checkout, "failed", "checkout_canceled",
                                  "This checkout was replaced or canceled")
    try:
        completion = sandbox_checkout_complete(
            session_id=checkout.gateway_session_id, card_number=card_number, scope=scope
        )
    except GatewayNotFound as exc:
        checkout_claim_release(checkout_id=checkout.id, token=token)
        raise NotFound("This checkout is not paid through the sandbox") from exc
    if completion.status == "completed":
        checkout = checkout_fulfil(
            scope=scope, checkout_id=checkout.id,
            payment_id=completion.session.provider_payment_id or "",
            gateway="sandbox", actor=actor,
        )
    else:
        status = (Checkout.Status.REQUIRES_ACTION if completion.status == "requires_action"
                  else Checkout.Status.FAILED)
        Checkout.objects.filter(pk=checkout.pk).exclude(  # a finished one stays so
            status__in=(Checkout.Status.COMPLETED, Checkout.Status.CANCELED)).update(
            status=status, failure_code=completion.failure_code,
            failure_message=completion.failure_message,
        )
        checkout.refresh_from_db()
    checkout_claim_release(checkout_id=checkout.id, token=token)
    if completion.status == "completed" and checkout.status == Checkout.Status.CANCELED:
        return CheckoutResult(checkout, "failed", "checkout_canceled",
                              f"Paid, but {checkout.failure_message}: the payment is refunded")
    return CheckoutResult(checkout, completion.status, completion.failure_code,
                          completion.failure_message, completion.action_url,
                          completion.redirect_url)


def checkout_fulfil(*, scope: Scope, checkout_id: str, payment_id: str, gateway: str,
                    actor: Actor = SYSTEM, attempt_id: str = "") -> Checkout:
    """The customer paid (or saved a card for a trial): start what the checkout bought.

    Takes lock_customer(customer) first, then re-checks what the checkout was decided on: a
    checkout canceled meanwhile, or one whose replaced subscription has ended, starts nothing
    (it is canceled, `failure_message` says what changed) and its payment is refunded
    (unapplied_payment_record: DR 1100-<gateway> / CR 2100, then the refund). Otherwise the
    waiting subscription starts now (trialing for a card-required trial), the plan it
    replaces ends, and the first invoice is issued and paid (ledger: invoice finalized,
    payment captured). `attempt_id` is the saved card's charge attempt; a payment made on
    the hosted page is recorded as one (gateways checkout_charge_record), so either can be
    refunded later. Idempotent: a completed checkout is returned unchanged, a payment
    already unapplied is not booked again.
    """
    with transaction.atomic():
        customer_id = Checkout.objects.for_scope(scope).values_list(
            "customer_id", flat=True).get(pk=checkout_id)
        lock_customer(customer_id)
        checkout = Checkout.objects.select_for_update().get(pk=checkout_id)
        if checkout.status == Checkout.Status.COMPLETED:
            return checkout
        at = clock.now(scope)
        gone = (f"the checkout was {checkout.failure_code or 'canceled'} meanwhile (replaced "
                "by another change, or canceled)"
                if checkout.status == Checkout.Status.CANCELED else _purpose_gone(checkout))
        if gone:  # starts nothing; the money goes back (billing.services.unapplied_payments)
            checkout_cancel(checkout=checkout, at=at, actor=actor, reason="superseded")
            Checkout.objects.filter(pk=checkout.pk).update(failure_message=gone[:500])
            if payment_id or attempt_id:
                unapplied_payment_record(scope=scope, checkout=checkout, payment_id=payment_id,
                                         gateway=gateway, attempt_id=attempt_id, reason=gone,
                                         at=at, actor=actor)
            checkout.refresh_from_db()
            return checkout
        checkout.status, checkout.completed_at = Checkout.Status.COMPLETED, at
        checkout.failure_code = checkout.failure_message = ""
        checkout.save()
        waiting = list(checkout.subscriptions.select_related("product", "price", "customer")
                       .filter(status=Status.CHECKOUT).order_by("created_at", "id"))
        if waiting:
            payment = _Payment(payment_id, gateway, attempt_id)
            _start_paid(scope, checkout, waiting, payment, at, actor)
        return checkout


def _purpose_gone(checkout: Checkout) -> str:
    """What no longer holds of what `checkout` was decided on ("" when all does): a
    subscription it replaces has ended meanwhile (canceled now, or replaced by another
    change)."""
    for replaced in (Subscription.objects.select_related("product")
                     .filter(pk__in=replaced_by(checkout))
                     .exclude(status__in=Subscription.CURRENT_STATUSES)):
        return (f"the subscription to {replaced.product.name} that it replaces ended "
                f"meanwhile ({replaced.status}, canceled or changed by another request)")
    return ""


@dataclass(frozen=True)
class _Payment:
    payment_id: str
    gateway: str
    attempt_id: str


def _start_paid(scope, checkout, waiting, payment, at, actor) -> None:
    """Start every subscription the checkout paid for (several for a multi-attach), then issue
    one invoice for them all, on the first (the checkout's lines)."""
    plan = checkout.plan
    subscription = waiting[0]
    price = subscription.price
    if price.type == price.Type.ONE_TIME:
        purchase_record(scope=scope, customer=subscription.customer,
                        product=subscription.product, price=price,
                        quantity=subscription.quantity, at=at, actor=actor,
                        subscription=subscription)
        _invoice_paid(scope, checkout, subscription, Invoice.Reason.PURCHASE, at, payment)
        return
    trial_days = plan.get("trialDays") or 0
    replaces = plan.get("replacesByProduct") or {subscription.product_id: plan.get("replaces")}
    announced = []
    for started in waiting:
        held = Subscription.objects.filter(
            pk=replaces.get(started.product_id), status__in=Subscription.CURRENT_STATUSES
        ).select_related("customer", "price").first()
        # the old plan's overage so far, on its own terms, before the new grants
        overage = overage_cut(subscription=held, at=at) if held is not None else []
        subscription_activate(
            subscription=started, at=at,
            trial_end=at + timedelta(days=trial_days) if trial_days else None,
            anchor_day=plan.get("billingAnchorDay"),
        )
        events = ["subscription.activated"]
        if held is not None:
            replaced_retire(scope=scope, held=held, replacement=started, overage=overage,
                            at=at, carry_balances=bool(plan.get("carryOverBalances")),
                            carry_usages=bool(plan.get("carryOverUsages")),
                            carry_feature_slugs=plan.get("carryOverFeatureIds"))
            events.append("subscription.upgraded")
        announced.append((started, events))
    if checkout.amount:
        _invoice_paid(scope, checkout, subscription, Invoice.Reason.SUBSCRIPTION_CREATE, at,
                      payment)
    for started, events in announced:
        announce(scope=scope, subscription=started, events=events, actor=actor,
                 details={"checkoutId": checkout.id})


def _invoice_paid(scope, checkout, subscription, reason, at, payment) -> None:
    period = reason == Invoice.Reason.SUBSCRIPTION_CREATE
    lines = [
        LineDraft(line["type"], line["description"], line["amount"],
                  quantity=Decimal(line["quantity"]), unit_amount=line["unitAmount"],
                  period_start=subscription.current_period_start
                  if period and line["type"] == "subscription" else None,
                  period_end=subscription.current_period_end
                  if period and line["type"] == "subscription" else None,
                  subscription_id=line.get("subscriptionId"))
        for line in checkout.plan.get("lines", [])
    ]
    invoice = invoice_issue(
        scope=scope, customer=subscription.customer, subscription=subscription, reason=reason,
        currency=checkout.currency, lines=lines, at=at,
        period_start=subscription.current_period_start if period else None,
        period_end=subscription.current_period_end if period else None, apply_credit=False,
    )
    attempt_id = payment.attempt_id
    if not attempt_id and payment.payment_id and invoice.amount_due:
        attempt_id = checkout_charge_record(
            scope=scope, session_id=checkout.gateway_session_id or checkout.id,
            provider_payment_id=payment.payment_id, amount=invoice.amount_due,
            currency=invoice.currency, customer_reference=checkout.customer_id,
            source_reference=checkout.id,
        ).id
    invoice_mark_paid(scope=scope, invoice=invoice, at=at,
                      payment_id=payment.payment_id or checkout.id, gateway=payment.gateway,
                      payment_attempt_id=attempt_id)


def on_gateway_event(*, event, scope, attempt) -> None:
    """settings.GATEWAY_EVENT_HANDLERS: a gateway says one of our checkouts completed."""
    checkout_id = (event.metadata or {}).get("cynco_checkout")
    if event.type != EventType.CHECKOUT_COMPLETED or not checkout_id or scope is None:
        return
    if not Checkout.objects.for_scope(scope).filter(pk=checkout_id).exists():
        return
    gateway, _account = gateway_in_use(scope)
    checkout_fulfil(scope=scope, checkout_id=checkout_id,
                    payment_id=event.provider_payment_id or "", gateway=gateway)

"""Subscribe, then pay: the card on file when there is one (secret keys only), else the hosted
checkout page. Three steps, the gateway call between two transactions (billing.services.payments).
"""

from __future__ import annotations

from datetime import datetime

from billing.models import Checkout, Subscription
from billing.services.audit import Actor
from billing.services.checkout_claims import (
    charge_token, checkout_claim_for_charge, checkout_claim_release,
)
from billing.services.checkouts import checkout_fulfil, checkout_open
from billing.services.multi_attach import AttachItem, multi_attach
from billing.services.payments import charge_saved_card, has_saved_card
from billing.services.subscribe import SubscribeOutcome, SubscribeRequest, subscribe
from cynco.crash_points import crash_point
from cynco.errors import Conflict
from cynco.money import format_money
from cynco.tenancy import Scope
from gateways.models import PaymentAttempt

DECLINED = "Card was declined"
THREE_DS = "3-D Secure authentication is required"


def subscribe_and_pay(*, scope: Scope, customer, request: SubscribeRequest, at: datetime,
                      actor: Actor, idempotency_key: str | None = None) -> SubscribeOutcome:
    """API.md's subscribe. Runs with no transaction open (the view sets
    idempotency_atomic = False): subscribe() commits under the customer's lock, then a saved
    card is charged (key `subscribe:<Idempotency-Key>`, or derived from the checkout's id) and
    the outcome recorded by checkout_fulfil; a decline or 3-D Secure answers `checkout` with
    `requiredAction`. A publishable key never charges a saved card."""
    card = has_saved_card(scope, customer.id)
    token = charge_token(idempotency_key)
    request = SubscribeRequest(**{**request.__dict__, "card_on_file": card,
                                  "charge_token": token})
    outcome = subscribe(scope=scope, customer=customer, request=request, at=at, actor=actor)
    return outcome_pay(scope=scope, customer=customer, outcome=outcome, card=card,
                       publishable=request.publishable, actor=actor,
                       idempotency_key=idempotency_key, token=token)


def multi_attach_and_pay(*, scope: Scope, customer, items: list[AttachItem],
                         success_url: str, cancel_url: str, coupon_code: str | None,
                         metadata: dict, publishable: bool, at: datetime, actor: Actor,
                         idempotency_key: str | None = None) -> SubscribeOutcome:
    """API.md's multi-attach: multi_attach() commits (all or nothing, under the customer's
    lock), then the total is paid like a subscribe's checkout (outcome_pay)."""
    outcome = multi_attach(scope=scope, customer=customer, items=items,
                           success_url=success_url, cancel_url=cancel_url,
                           coupon_code=coupon_code, metadata=metadata, at=at, actor=actor)
    return outcome_pay(scope=scope, customer=customer, outcome=outcome,
                       card=has_saved_card(scope, customer.id), publishable=publishable,
                       actor=actor, idempotency_key=idempotency_key, endpoint="multi-attach",
                       token=charge_token(idempotency_key))


def outcome_pay(*, scope: Scope, customer, outcome: SubscribeOutcome, card: bool,
                publishable: bool, actor: Actor, idempotency_key: str | None, token: str,
                endpoint: str = "subscribe") -> SubscribeOutcome:
    """Pay what a committed subscribe (or multi-attach) left in a checkout: the saved card
    when there is one and the key is secret, else open the hosted page. No transaction open.

    The charge is made under the checkout's claim (billing.services.checkout_claims: `token`
    pays it; another request paying it already makes this one a `noop`). When the gateway
    answers, checkout_fulfil re-checks the change's premises; if they no longer hold, the
    payment is refunded and this answers 409 CONFLICT saying what changed."""
    if outcome.action != "checkout":
        return outcome
    checkout = outcome.checkout
    if (card and not publishable and checkout.mode == Checkout.Mode.PAYMENT
            and checkout.amount):
        if not checkout_claim_for_charge(checkout_id=checkout.id, token=token):
            return _not_ours(checkout, outcome)
        key = f"{endpoint}:{idempotency_key}" if idempotency_key else f"{checkout.id}:charge"
        attempt = charge_saved_card(
            scope=scope, customer_id=customer.id, amount=checkout.amount,
            currency=checkout.currency, source=checkout.id, key=key,
            description=checkout.description,
        ).attempt
        if attempt is not None and attempt.succeeded:
            fulfilled = checkout_fulfil(scope=scope, checkout_id=checkout.id,
                                        payment_id=attempt.provider_payment_id,
                                        gateway=attempt.gateway, actor=actor,
                                        attempt_id=attempt.id)
            crash_point("charge.fulfilled")
            if fulfilled.status != Checkout.Status.COMPLETED:
                raise Conflict(f"Nothing changed: {fulfilled.failure_message}. The payment "
                               f"of {format_money(checkout.amount, checkout.currency)} is "
                               "refunded.")
            subscription = Subscription.objects.select_related("product").get(
                pk=outcome.subscription.pk)
            return SubscribeOutcome("activated", subscription,
                                    proration_amount=outcome.proration_amount,
                                    discount_amount=outcome.discount_amount)
        if attempt is not None and attempt.status == PaymentAttempt.Status.REQUIRES_ACTION:
            outcome.required_action = {"code": "3ds_required",
                                       "reason": attempt.failure_message or THREE_DS}
            outcome.url = attempt.action_url
        elif attempt is not None:
            outcome.required_action = {"code": "payment_failed",
                                       "reason": attempt.failure_message or DECLINED}
        checkout_claim_release(checkout_id=checkout.id, token=token)
    checkout_open(scope=scope, checkout=checkout)
    outcome.url = outcome.url or checkout.url
    return outcome


def _not_ours(checkout: Checkout, outcome: SubscribeOutcome) -> SubscribeOutcome:
    """The checkout is finished or another request is paying it: this one charges nothing. An
    identical request that came second answers `noop`; one whose checkout was replaced
    meanwhile, 409."""
    checkout.refresh_from_db()
    if checkout.status == Checkout.Status.CANCELED:
        changed = checkout.failure_message or "the checkout was replaced or canceled"
        raise Conflict(f"Nothing changed: {changed}; nothing was charged.")
    return SubscribeOutcome("noop", Subscription.objects.select_related("product").get(
        pk=outcome.subscription.pk))

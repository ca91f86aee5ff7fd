"""Checkouts paid on our own page through a gateway's browser library (Stripe's intents).

The sandbox's page pays through `checkout_pay_with_card`. A Stripe session is an intent that our
page (`/checkout/stripe/<intent id>`) confirms with a payment method Stripe.js created in the
browser: `checkout_confirm` sends it, `checkout_refresh` reads the intent again when the customer
comes back from 3-D Secure. Either way a complete session saves the card and fulfils the
checkout (`checkout_fulfil`, idempotent, so the gateway's own webhook changes nothing after).
No transaction may be open (both call the gateway).
"""

from __future__ import annotations

from billing.models import Checkout
from billing.services.audit import SYSTEM, Actor
from billing.services.checkout_claims import (
    charge_token, checkout_claim_for_charge, checkout_claim_release,
)
from billing.services.checkouts import CheckoutResult, checkout_fulfil
from gateways.base import SessionStatus
from gateways.services.checkout import (
    checkout_session_confirm,
    checkout_session_get,
    gateway_in_use,
    payment_method_save,
)
from cynco.tenancy import Scope


def checkout_confirm(*, scope: Scope, checkout: Checkout, payment_method: str,
                     actor: Actor = SYSTEM) -> CheckoutResult:
    """Pay `checkout`'s session with `payment_method` (a gateway's token, e.g. `pm_…`)."""
    if checkout.status in (Checkout.Status.COMPLETED, Checkout.Status.CANCELED):
        return _as_it_is(checkout)
    token = charge_token(None)  # a racing change of plan waits (409) while the card is charged
    if not checkout_claim_for_charge(checkout_id=checkout.id, token=token):
        checkout.refresh_from_db()
        if checkout.status == Checkout.Status.CANCELED:
            return _as_it_is(checkout)
    try:
        session = checkout_session_confirm(scope=scope, session_id=checkout.gateway_session_id,
                                           payment_method=payment_method)
        return _settle(scope, checkout, session, actor)
    finally:
        checkout_claim_release(checkout_id=checkout.id, token=token)


def checkout_refresh(*, scope: Scope, checkout: Checkout, actor: Actor = SYSTEM
                     ) -> CheckoutResult:
    """Read `checkout`'s session again (after 3-D Secure, or a confirmation made by the
    browser itself) and fulfil it if it is complete now."""
    if checkout.status in (Checkout.Status.COMPLETED, Checkout.Status.CANCELED):
        return _as_it_is(checkout)
    session = checkout_session_get(scope=scope, session_id=checkout.gateway_session_id)
    return _settle(scope, checkout, session, actor)


def _as_it_is(checkout: Checkout) -> CheckoutResult:
    if checkout.status == Checkout.Status.COMPLETED:
        return CheckoutResult(checkout, "completed", redirect_url=checkout.success_url)
    return CheckoutResult(checkout, "failed", "checkout_canceled",
                          "This checkout was replaced or canceled")


def _settle(scope, checkout, session, actor) -> CheckoutResult:
    gateway, account_id = gateway_in_use(scope)
    if session.status == SessionStatus.COMPLETE:
        if session.payment_method is not None:
            payment_method_save(scope=scope, customer_reference=checkout.customer_id,
                                gateway=gateway, gateway_account_id=account_id,
                                method=session.payment_method)
        checkout = checkout_fulfil(scope=scope, checkout_id=checkout.id,
                                   payment_id=session.provider_payment_id or "",
                                   gateway=gateway, actor=actor)
        return CheckoutResult(checkout, "completed", redirect_url=checkout.success_url)
    if session.status == SessionStatus.REQUIRES_ACTION:
        status, outcome = Checkout.Status.REQUIRES_ACTION, "requires_action"
    elif session.failure_message:
        status, outcome = Checkout.Status.FAILED, "failed"
    else:
        return CheckoutResult(checkout, "open")
    Checkout.objects.filter(pk=checkout.pk).exclude(  # a finished one stays so
        status__in=(Checkout.Status.COMPLETED, Checkout.Status.CANCELED)).update(
        status=status, failure_code=session.failure_code,
        failure_message=session.failure_message)
    checkout.refresh_from_db()
    return CheckoutResult(checkout, outcome, session.failure_code, session.failure_message,
                          session.action_url)

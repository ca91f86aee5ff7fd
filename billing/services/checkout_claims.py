"""A checkout being paid right now: who pays it, so that racing plan changes do not both charge.

A plan change decides under the customer's lock, then charges with no lock held (DESIGN.md).
The decision that is about to charge (a saved card by `/subscribe` or `/multi-attach`, a card
on the hosted page) claims its checkout in the same transaction: `charging_token` names the
request, `charging_since` is when (wall clock). While the claim lasts (CHARGE_CLAIM_SECONDS):

- another change of the same plan group, or a cancel of what the checkout buys or replaces,
  answers 409 CONFLICT and charges nothing (`refuse_while_paying`);
- the same subscribe again answers `noop` (`claimed_by_another`) — unless it carries the same
  Idempotency-Key (its token), which is a retry after a crash that resumes the charge.

The claim ends when the charge's outcome is recorded (fulfilled, or released on a decline or
3-D Secure). A claim a crash left behind stops counting after CHARGE_CLAIM_SECONDS; what it
would have protected is still safe, only later: a payment landing on a checkout whose purpose
is gone is refunded (billing.services.unapplied_payments).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction

from billing.models import Checkout, Subscription
from cynco.clock import wall_now
from cynco.errors import Conflict
from cynco.locks import lock_customer

UNFINISHED = (Checkout.Status.OPEN, Checkout.Status.REQUIRES_ACTION, Checkout.Status.FAILED)


def charge_token(idempotency_key: str | None) -> str:
    """Who is paying: the request's Idempotency-Key (a retry is the same payer), else a token
    of its own."""
    return f"key:{idempotency_key}" if idempotency_key else f"req:{uuid.uuid4().hex}"


def is_being_paid(checkout: Checkout | None) -> bool:
    """Someone is paying `checkout` now (a live claim on an unfinished checkout)."""
    return (checkout is not None and checkout.status in UNFINISHED
            and bool(checkout.charging_token) and checkout.charging_since is not None
            and checkout.charging_since > wall_now() - timedelta(seconds=settings.CHARGE_CLAIM_SECONDS))


def claimed_by_another(checkout: Checkout | None, token: str) -> bool:
    return is_being_paid(checkout) and checkout.charging_token != token


def checkout_claim(*, checkout: Checkout, token: str) -> None:
    """Claim `checkout` for the request `token`. Caller's transaction and lock_customer; posts
    nothing."""
    checkout.charging_token, checkout.charging_since = token, wall_now()
    Checkout.objects.filter(pk=checkout.pk).update(charging_token=token,
                                                   charging_since=checkout.charging_since)


def claim_for_saved_card(*, checkout: Checkout, request) -> None:
    """A subscribe that will charge the saved card (a secret key, money due now) claims its
    checkout in the transaction that decided it, so no racing change slips in between."""
    if (request.charge_token and request.card_on_file and not request.publishable
            and checkout.mode == Checkout.Mode.PAYMENT and checkout.amount):
        checkout_claim(checkout=checkout, token=request.charge_token)


def checkout_claim_for_charge(*, checkout_id: str, token: str) -> bool:
    """Claim an unfinished checkout before charging it (a multi-attach's saved card, the
    hosted page's card); False when it is finished or another request is paying it. Its own
    transaction under lock_customer; posts nothing."""
    with transaction.atomic():
        customer_id = Checkout.objects.values_list("customer_id", flat=True).get(pk=checkout_id)
        lock_customer(customer_id)
        checkout = Checkout.objects.get(pk=checkout_id)
        if checkout.status not in UNFINISHED or claimed_by_another(checkout, token):
            return False
        checkout_claim(checkout=checkout, token=token)
        return True


def checkout_claim_release(*, checkout_id: str, token: str) -> None:
    """The request `token` has finished paying (declined, waiting for 3-D Secure): the checkout
    is free again. Its own statement; a claim taken over by another request is left alone."""
    with transaction.atomic():
        Checkout.objects.filter(pk=checkout_id, charging_token=token).update(
            charging_token="", charging_since=None)


def describe(checkout: Checkout) -> str:
    """What a checkout buys, for a message: "Pro" or "Pro, Seats"."""
    names = list(checkout.subscriptions.values_list("product__name", flat=True))
    return ", ".join(names) or checkout.description


def refuse_while_paying(checkout: Checkout | None, *, doing: str) -> None:
    """409 CONFLICT if `checkout` is being paid right now: `doing` ("nothing was charged")
    says what the refused request left undone."""
    if is_being_paid(checkout):
        raise Conflict(f"Another plan change for this customer (to {describe(checkout)}) is "
                       f"being paid right now; {doing}. Try again once it has finished.")


def paying_checkouts(customer) -> list[Checkout]:
    """The customer's checkouts being paid right now (caller holds lock_customer)."""
    return [checkout for checkout in Checkout.objects.filter(
        customer=customer, status__in=UNFINISHED).exclude(charging_token="")
        if is_being_paid(checkout)]


def replaced_by(checkout: Checkout) -> set[str]:
    """Ids of the subscriptions paying `checkout` replaces (its plan's `replaces`)."""
    plan = checkout.plan or {}
    ids = set((plan.get("replacesByProduct") or {}).values()) | {plan.get("replaces")}
    return {i for i in ids if i}


def waiting_for(checkout: Checkout) -> set[str]:
    return set(Subscription.objects.filter(checkout=checkout).values_list("id", flat=True))

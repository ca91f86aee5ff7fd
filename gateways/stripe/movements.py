"""Stripe's record of money moved, through its list endpoints, for reconciliation.

Payments are the succeeded PaymentIntents created in the window (`GET /v1/payment_intents`
with `created[gte]`/`created[lt]`), refunds the succeeded Refunds created in it (`GET
/v1/refunds`), each page followed to the end. One Stripe account may serve many merchants:
a PaymentIntent is this merchant+environment's when its metadata says so; a refund when its
own metadata says so (the ones we make) or, made in Stripe's dashboard, when its PaymentIntent
is ours.
"""

from __future__ import annotations

from datetime import UTC, datetime

import stripe

from gateways.base import GatewayContext, MoneyMovement, MovementKind
from gateways.stripe.client import as_dict, stripe_calls, stripe_client
from gateways.stripe.intents import META_ENVIRONMENT, META_MERCHANT, id_of


def _window(since: datetime, until: datetime) -> dict:
    return {"created": {"gte": int(since.timestamp()), "lt": int(until.timestamp())},
            "limit": 100}


def _at(obj: dict) -> datetime:
    return datetime.fromtimestamp(int(obj.get("created") or 0), tz=UTC)


class _Owner:
    """Whether an object belongs to the context's merchant+environment (PaymentIntents asked
    once each)."""

    def __init__(self, context: GatewayContext, client: stripe.StripeClient):
        self.context, self.client, self.intents = context, client, {}

    def owns(self, metadata: dict | None) -> bool | None:
        """True/False from cynco metadata; None when the object carries none."""
        metadata = metadata or {}
        if not metadata.get(META_MERCHANT):
            return None
        return (metadata.get(META_MERCHANT) == self.context.merchant_id
                and metadata.get(META_ENVIRONMENT) == self.context.environment)

    def owns_intent(self, intent_id: str | None) -> bool:
        if not intent_id:
            return False
        if intent_id not in self.intents:
            with stripe_calls():
                intent = as_dict(self.client.v1.payment_intents.retrieve(intent_id))
            self.intents[intent_id] = bool(self.owns(intent.get("metadata")))
        return self.intents[intent_id]


def payments(context: GatewayContext, *, since: datetime, until: datetime
             ) -> list[MoneyMovement]:
    client = stripe_client(context)
    owner = _Owner(context, client)
    found = []
    with stripe_calls():
        for intent in client.v1.payment_intents.list(params=_window(since, until)
                                                     ).auto_paging_iter():
            intent = as_dict(intent)
            if intent.get("status") != "succeeded" or not owner.owns(intent.get("metadata")):
                continue
            found.append(MoneyMovement(
                kind=MovementKind.PAYMENT, provider_id=intent["id"],
                amount=int(intent.get("amount_received") or intent.get("amount") or 0),
                currency=str(intent.get("currency") or "").upper(), at=_at(intent)))
    return found


def refunds(context: GatewayContext, *, since: datetime, until: datetime
            ) -> list[MoneyMovement]:
    client = stripe_client(context)
    owner = _Owner(context, client)
    found = []
    with stripe_calls():
        for refund in client.v1.refunds.list(params=_window(since, until)).auto_paging_iter():
            refund = as_dict(refund)
            if refund.get("status") != "succeeded":
                continue
            intent_id = id_of(refund.get("payment_intent"))
            if intent_id is None and refund.get("charge"):
                intent_id = id_of(as_dict(client.v1.charges.retrieve(
                    id_of(refund["charge"]))).get("payment_intent"))
            mine = owner.owns(refund.get("metadata"))
            if mine is False or (mine is None and not owner.owns_intent(intent_id)):
                continue
            found.append(MoneyMovement(
                kind=MovementKind.REFUND, provider_id=refund["id"], amount=int(refund["amount"]),
                currency=str(refund.get("currency") or "").upper(), at=_at(refund),
                payment_id=intent_id or ""))
    return found

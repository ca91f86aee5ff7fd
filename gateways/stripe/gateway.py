"""The `stripe` gateway: Stripe's PaymentIntents and SetupIntents through the official package.

Every call builds a `stripe.StripeClient` from the context's credentials (`client.py`) and
passes the contract's idempotency key as Stripe's `Idempotency-Key`, so the same key answers
the first result and never charges or refunds twice (Stripe keeps keys 24 hours, longer than
GATEWAY_PENDING_MAX_AGE_HOURS, so the sweeper's re-sends are covered). Hosted sessions are
intents completed on our own checkout page (`intents.py`). Stripe's exceptions never leave this
package: they become the contract's typed errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

import stripe

from gateways.base import (
    Gateway,
    MoneyMovement,
    PAYMENT_FAILED,
    THREE_DS_REQUIRED,
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    CheckoutRequest,
    CheckoutSession,
    GatewayContext,
    GatewayEvent,
    GatewayNotFound,
    GatewayRejected,
    IdempotencyConflict,
    PaymentLookup,
    PaymentState,
    PaymentStatusResult,
    RefundExceedsPayment,
    RefundRequest,
    RefundResult,
    RefundStatus,
    SessionMode,
    SessionStatus,
)
from gateways.stripe import events, movements
from gateways.stripe.client import as_dict, error_body, stripe_calls, stripe_client, translated
from gateways.stripe.intents import (
    META_CANCEL_URL,
    META_CUSTOMER,
    META_ENVIRONMENT,
    META_KEY,
    META_MERCHANT,
    META_SAVE,
    META_SESSION,
    META_SUCCESS_URL,
    AUTHENTICATION_REQUIRED,
    charge_result_of,
    checkout_url,
    failure_of,
    id_of,
    session_of,
    status_of,
)

NAME = "stripe"
_REFUND_STATUS = {"succeeded": RefundStatus.SUCCEEDED, "failed": RefundStatus.FAILED,
                  "canceled": RefundStatus.FAILED}


_REQUIRED = (("secret_key", "STRIPE_SECRET_KEY"), ("webhook_secret", "STRIPE_WEBHOOK_SECRET"))


def _key(idempotency_key: str) -> dict:
    return {"idempotency_key": idempotency_key}


class StripeGateway(Gateway):
    """`gateways.base.Gateway` for Stripe."""

    name = NAME

    def __init__(self, context: GatewayContext):
        self.context = context

    @staticmethod
    def missing_credentials(credentials: Mapping) -> list[str]:
        """The settings `manage.py check` reports missing from a server-default configuration."""
        return [setting for name, setting in _REQUIRED if not credentials.get(name)]

    def _metadata(self, metadata: Mapping[str, str], idempotency_key: str) -> dict[str, str]:
        return {
            **{str(k): str(v) for k, v in (metadata or {}).items()},
            META_KEY: idempotency_key,
            META_MERCHANT: self.context.merchant_id or "",
            META_ENVIRONMENT: self.context.environment or "",
        }

    def _owned(self, intent: dict) -> dict:
        """The object, if it belongs to this merchant+environment (one Stripe account may serve
        many merchants: another's ids must look unknown)."""
        metadata = intent.get("metadata") or {}
        if self.context.merchant_id and (
            metadata.get(META_MERCHANT) != self.context.merchant_id
            or metadata.get(META_ENVIRONMENT) != self.context.environment
        ):
            raise GatewayNotFound(f"No Stripe object {intent.get('id')} for this merchant")
        return intent

    # --- checkout -------------------------------------------------------------------------

    def create_checkout_session(self, request: CheckoutRequest) -> CheckoutSession:
        mode = SessionMode(request.mode)
        if mode == SessionMode.PAYMENT and request.amount <= 0:
            raise GatewayRejected("A payment session needs a positive amount", code="invalid_amount")
        client = stripe_client(self.context)
        metadata = {
            **self._metadata(request.metadata, request.idempotency_key),
            META_CUSTOMER: request.customer_reference, META_SESSION: mode.value,
            META_SAVE: "1" if request.save_payment_method or mode == SessionMode.SETUP else "0",
            META_SUCCESS_URL: request.success_url, META_CANCEL_URL: request.cancel_url,
            "cynco_currency": request.currency.upper(),
        }
        with stripe_calls():
            customer = client.v1.customers.create(
                params={"description": request.customer_reference,
                        "metadata": {META_CUSTOMER: request.customer_reference,
                                     META_MERCHANT: metadata[META_MERCHANT],
                                     META_ENVIRONMENT: metadata[META_ENVIRONMENT]}},
                options=_key(f"{request.idempotency_key}:customer"),
            )
            if mode == SessionMode.SETUP:
                intent = client.v1.setup_intents.create(
                    params={"customer": customer.id, "usage": "off_session",
                            "payment_method_types": ["card"], "metadata": metadata},
                    options=_key(request.idempotency_key),
                )
            else:
                params = {"amount": request.amount, "currency": request.currency.lower(),
                          "customer": customer.id, "payment_method_types": ["card"],
                          "description": request.description, "metadata": metadata}
                if request.save_payment_method:
                    params["setup_future_usage"] = "off_session"
                intent = client.v1.payment_intents.create(
                    params=params, options=_key(request.idempotency_key)
                )
        return session_of(as_dict(intent), None)

    def _intent(self, client: stripe.StripeClient, intent_id: str, **params) -> dict:
        with stripe_calls():
            if intent_id.startswith("seti_"):
                intent = client.v1.setup_intents.retrieve(intent_id)
            elif intent_id.startswith("pi_"):
                intent = client.v1.payment_intents.retrieve(intent_id, params=params or None)
            else:
                raise GatewayNotFound(f"No Stripe intent {intent_id}")
        return self._owned(as_dict(intent))

    def get_checkout_session(self, session_id: str) -> CheckoutSession:
        client = stripe_client(self.context)
        intent = self._intent(client, session_id)
        method = None
        method_id = id_of(intent.get("payment_method"))
        if intent.get("status") == "succeeded" and method_id:
            with stripe_calls():
                method = as_dict(client.v1.payment_methods.retrieve(method_id))
        return session_of(intent, method)

    # --- our hosted page (settings.STRIPE_CHECKOUT_URL) ---------------------------------

    def checkout_client_secret(self, session_id: str) -> str:
        """The intent's client secret, which Stripe.js needs on our page for 3-D Secure."""
        return self._intent(stripe_client(self.context), session_id).get("client_secret") or ""

    def confirm_checkout_session(self, session_id: str, payment_method: str) -> CheckoutSession:
        """Pay (or save a card for) a hosted session with a payment method that Stripe.js made
        in the customer's browser, so the card number never reaches us. A decline leaves the
        session open with Stripe's message; a card needing 3-D Secure answers requires_action
        (Stripe.js completes it on the same page). A session already complete is answered as
        it is."""
        client = stripe_client(self.context)
        intent = self._intent(client, session_id)
        declined = ""
        if intent.get("status") in ("requires_payment_method", "requires_confirmation"):
            try:
                if session_id.startswith("seti_"):
                    client.v1.setup_intents.confirm(
                        session_id, params={"payment_method": payment_method})
                else:
                    client.v1.payment_intents.update(
                        session_id, params={"payment_method": payment_method})
                    client.v1.payment_intents.confirm(session_id)
            except stripe.CardError as exc:
                declined = error_body(exc).get("message") or "Your card was declined"
            except stripe.StripeError as exc:
                raise translated(exc) from exc
        session = self.get_checkout_session(session_id)
        if declined and session.status == SessionStatus.OPEN and not session.failure_message:
            session = replace(session, failure_code=PAYMENT_FAILED, failure_message=declined)
        return session

    # --- off-session charges ------------------------------------------------------------

    def charge(self, request: ChargeRequest) -> ChargeResult:
        if request.amount <= 0:
            raise GatewayRejected("Amount must be positive", code="invalid_amount")
        client = stripe_client(self.context)
        with stripe_calls():
            try:
                method = as_dict(client.v1.payment_methods.retrieve(request.payment_method_token))
            except stripe.InvalidRequestError as exc:
                if exc.http_status == 404:
                    raise GatewayNotFound("No such Stripe payment method",
                                          code="payment_method_not_found") from exc
                raise
        params = {
            "amount": request.amount, "currency": request.currency.lower(),
            "payment_method": request.payment_method_token, "payment_method_types": ["card"],
            "confirm": True, "off_session": True,
            "metadata": self._metadata(request.metadata, request.idempotency_key),
        }
        if id_of(method.get("customer")):
            params["customer"] = id_of(method.get("customer"))
        if request.description:
            params["description"] = request.description
        try:
            intent = client.v1.payment_intents.create(
                params=params, options=_key(request.idempotency_key)
            )
        except stripe.CardError as exc:
            return self._declined(client, exc)
        except stripe.StripeError as exc:
            raise translated(exc) from exc
        return charge_result_of(as_dict(intent))

    def _declined(self, client: stripe.StripeClient, exc: stripe.CardError) -> ChargeResult:
        """A decline (Stripe answers 402): which payment it was, and why."""
        error = error_body(exc)
        payment_id = id_of(error.get("payment_intent"))
        if not payment_id and error.get("charge"):
            with stripe_calls():
                payment_id = id_of(as_dict(client.v1.charges.retrieve(error["charge"]))
                                   .get("payment_intent"))
        payment_id = payment_id or id_of(error.get("charge")) or ""
        if error.get("code") == AUTHENTICATION_REQUIRED and payment_id.startswith("pi_"):
            return ChargeResult(
                status=ChargeStatus.REQUIRES_ACTION, provider_payment_id=payment_id,
                failure_code=THREE_DS_REQUIRED, failure_message=error.get("message", ""),
                action_url=checkout_url(payment_id),
            )
        code, message = failure_of(error)
        return ChargeResult(status=ChargeStatus.FAILED, provider_payment_id=payment_id,
                            failure_code=code or PAYMENT_FAILED,
                            failure_message=message or "The payment was declined")

    # --- refunds --------------------------------------------------------------------------

    def refund(self, request: RefundRequest) -> RefundResult:
        if request.amount <= 0:
            raise GatewayRejected("Amount must be positive", code="invalid_amount")
        client = stripe_client(self.context)
        intent = self._intent(client, request.provider_payment_id, expand=["latest_charge"])
        with stripe_calls():
            refunds = client.v1.refunds.list(
                params={"payment_intent": intent["id"], "limit": 100}
            )
        for refund in (as_dict(r) for r in refunds.data):
            if (refund.get("metadata") or {}).get(META_KEY) == request.idempotency_key:
                if refund.get("amount") != request.amount:
                    raise IdempotencyConflict("This idempotency key was used for another refund")
                return self._refund_result(refund)
        if intent.get("status") != "succeeded":
            raise GatewayRejected("Only a succeeded payment can be refunded",
                                  code="payment_not_refundable")
        charge = intent.get("latest_charge") or {}
        left = (charge.get("amount") or intent.get("amount") or 0) - (
            charge.get("amount_refunded") or 0)
        if request.amount > left:
            raise RefundExceedsPayment(
                f"Refund of {request.amount} exceeds the {left} left of the payment"
            )
        with stripe_calls():
            refund = client.v1.refunds.create(
                params={"payment_intent": intent["id"], "amount": request.amount,
                        "metadata": self._metadata({}, request.idempotency_key)},
                options=_key(request.idempotency_key),
            )
        return self._refund_result(as_dict(refund))

    @staticmethod
    def _refund_result(refund: dict) -> RefundResult:
        status = _REFUND_STATUS.get(refund.get("status"), RefundStatus.PENDING)
        return RefundResult(
            status=status, provider_refund_id=refund["id"],
            failure_code="refund_failed" if status == RefundStatus.FAILED else "",
            failure_message=refund.get("failure_reason") or "" if status == RefundStatus.FAILED
            else "",
        )

    # --- status -----------------------------------------------------------------------------

    def fetch_payment(self, lookup: PaymentLookup) -> PaymentStatusResult:
        client = stripe_client(self.context)
        if lookup.provider_payment_id:
            try:
                intent = self._intent(client, lookup.provider_payment_id, expand=["latest_charge"])
            except GatewayNotFound:
                return PaymentStatusResult(state=PaymentState.NOT_FOUND)
            return status_of(intent)
        # No id: the call that made it never answered. Search by the key we put in metadata
        # (Stripe's search can lag a minute; a miss makes the sweeper re-send with the same
        # Idempotency-Key, which Stripe answers with the original payment).
        escaped = lookup.idempotency_key.replace("\\", "\\\\").replace("'", "\\'")
        with stripe_calls():
            found = client.v1.payment_intents.search(
                params={"query": f"metadata['{META_KEY}']:'{escaped}'", "limit": 10}
            )
        for intent in (as_dict(i) for i in found.data):
            metadata = intent.get("metadata") or {}
            if metadata.get(META_KEY) != lookup.idempotency_key:
                continue
            try:
                self._owned(intent)
            except GatewayNotFound:
                continue
            return status_of(self._intent(client, intent["id"], expand=["latest_charge"]))
        return PaymentStatusResult(state=PaymentState.NOT_FOUND)

    # --- the gateway's record, for reconciliation ------------------------------------------

    def list_payments(self, *, since: datetime, until: datetime) -> list[MoneyMovement]:
        return movements.payments(self.context, since=since, until=until)

    def list_refunds(self, *, since: datetime, until: datetime) -> list[MoneyMovement]:
        return movements.refunds(self.context, since=since, until=until)

    # --- webhooks ---------------------------------------------------------------------------

    def parse_webhook(self, *, headers: Mapping[str, str], body: bytes) -> GatewayEvent:
        return events.parse(secret=self.context.webhook_secret, headers=headers, body=body)

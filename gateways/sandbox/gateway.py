"""The built-in `sandbox` gateway: behaves like a real provider, with the cards of API.md.

State lives in the sandbox's own tables (`gateways.sandbox.models`), namespaced by the
merchant+environment of the gateway's context. Each call runs in its own short transaction
(the provider's side of the wire); idempotency keys answer the first result, and the same key
with different parameters is refused, as Stripe does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from gateways.base import (
    Gateway,
    MoneyMovement,
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    CheckoutRequest,
    CheckoutSession,
    EventType,
    GatewayContext,
    GatewayError,
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
    SavedPaymentMethod,
    SessionMode,
    SessionStatus,
)
from gateways.sandbox import movements, signing
from gateways.sandbox.cards import Behaviour, card_for, failure_of
from gateways.sandbox.models import SandboxPayment, SandboxPaymentMethod, SandboxRefund, SandboxSession

NAME = "sandbox"


def authenticate_url(payment_id: str) -> str:
    """The sandbox's own 3-D Secure page for a payment (gateways.sandbox.views)."""
    return f"{settings.PUBLIC_BASE_URL}/gateways/sandbox/authenticate/{payment_id}"


def checkout_url(session_id: str) -> str:
    """Where the customer pays a sandbox session: the hosted checkout page (SANDBOX_CHECKOUT_URL)."""
    return settings.SANDBOX_CHECKOUT_URL.format(
        base=settings.PUBLIC_BASE_URL, session_id=session_id
    )


def saved_method_of(method: SandboxPaymentMethod | None) -> SavedPaymentMethod | None:
    if method is None:
        return None
    return SavedPaymentMethod(
        token=method.id, type="card", brand=method.brand, last4=method.last4,
        exp_month=method.exp_month, exp_year=method.exp_year,
    )


def session_of(session: SandboxSession) -> CheckoutSession:
    payment = session.payment
    return CheckoutSession(
        session_id=session.id,
        redirect_url=checkout_url(session.id),
        status=SessionStatus(session.status),
        amount=session.amount,
        currency=session.currency,
        customer_reference=session.customer_reference,
        provider_payment_id=payment.id if payment and payment.status != "failed" else None,
        payment_method=saved_method_of(session.payment_method) if session.status == "complete"
        else None,
        failure_code=session.failure_code,
        failure_message=session.failure_message,
        action_url=authenticate_url(payment.id) if session.status == "requires_action" else "",
        metadata=session.metadata,
    )


def charge_result_of(payment: SandboxPayment) -> ChargeResult:
    return ChargeResult(
        status=ChargeStatus(payment.status),
        provider_payment_id=payment.id,
        failure_code=payment.failure_code,
        failure_message=payment.failure_message,
        action_url=authenticate_url(payment.id) if payment.status == "requires_action" else "",
    )


def _fingerprint(*parts) -> str:
    return hashlib.sha256("\x00".join(str(part) for part in parts).encode()).hexdigest()


def _charge_fingerprint(request: ChargeRequest) -> str:
    return _fingerprint(request.payment_method_token, request.amount, request.currency.upper())


class SandboxGateway(Gateway):
    """`gateways.base.Gateway` for the sandbox."""

    name = NAME

    def __init__(self, context: GatewayContext):
        self.context = context

    @property
    def _namespace(self) -> dict[str, str]:
        if not self.context.merchant_id:
            raise GatewayRejected("This sandbox gateway object only verifies webhooks")
        return {"merchant_id": self.context.merchant_id, "environment": self.context.environment}

    def _sessions(self):
        return SandboxSession.objects.filter(**self._namespace).select_related(
            "payment", "payment_method"
        )

    # --- checkout -------------------------------------------------------------------------

    def create_checkout_session(self, request: CheckoutRequest) -> CheckoutSession:
        mode = SessionMode(request.mode)
        if mode == SessionMode.PAYMENT and request.amount <= 0:
            raise GatewayRejected("A payment session needs a positive amount", code="invalid_amount")
        fields = {
            "mode": mode.value,
            "amount": request.amount if mode == SessionMode.PAYMENT else 0,
            "currency": request.currency.upper(),
            "customer_reference": request.customer_reference,
            "description": request.description,
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "save_payment_method": request.save_payment_method or mode == SessionMode.SETUP,
            "metadata": dict(request.metadata),
        }
        lookup = {**self._namespace, "idempotency_key": request.idempotency_key}
        try:
            with transaction.atomic():
                session = SandboxSession.objects.create(
                    **lookup, account_id=self.context.account_id or "", **fields
                )
        except IntegrityError:
            session = self._sessions().get(idempotency_key=request.idempotency_key)
            if any(getattr(session, name) != value for name, value in fields.items()):
                raise IdempotencyConflict(
                    "This idempotency key opened a different checkout session"
                ) from None
        return session_of(self._sessions().get(pk=session.pk))

    def get_checkout_session(self, session_id: str) -> CheckoutSession:
        session = self._sessions().filter(pk=session_id).first()
        if session is None:
            raise GatewayNotFound(f"No sandbox checkout session {session_id}")
        return session_of(session)

    # --- off-session charges ------------------------------------------------------------

    def charge(self, request: ChargeRequest) -> ChargeResult:
        if request.amount <= 0:
            raise GatewayRejected("Amount must be positive", code="invalid_amount")
        fingerprint = _charge_fingerprint(request)
        existing = self._existing_charge(request.idempotency_key, fingerprint)
        if existing is not None:
            return existing
        method = SandboxPaymentMethod.objects.filter(
            **self._namespace, pk=request.payment_method_token
        ).first()
        payment = self._new_charge(request, method, fingerprint)
        try:
            with transaction.atomic():
                payment.save(force_insert=True)
        except IntegrityError:  # the same key, sent concurrently: answer the first result
            return self._existing_charge(request.idempotency_key, fingerprint)
        return charge_result_of(payment)

    def charge_many(self, requests: list[ChargeRequest]) -> list[ChargeResult | GatewayError]:
        """`charge` for many requests at once (a batch job's charges; optional for a gateway,
        see gateways.services.charge_batches): one read of the keys already used, one of the
        cards, one insert of the new payments in one transaction. Each answer is what `charge`
        answers for that request, or the GatewayError it raises. A key used concurrently
        during the insert sends the whole batch through `charge`, one by one."""
        keys = [request.idempotency_key for request in requests]
        known = {payment.idempotency_key: payment for payment in SandboxPayment.objects.filter(
            **self._namespace, idempotency_key__in=keys)}
        methods = {method.id: method for method in SandboxPaymentMethod.objects.filter(
            **self._namespace, pk__in={request.payment_method_token for request in requests})}
        answers: list[SandboxPayment | GatewayError] = []
        new = []
        for request in requests:
            try:
                if request.amount <= 0:
                    raise GatewayRejected("Amount must be positive", code="invalid_amount")
                fingerprint = _charge_fingerprint(request)
                payment = known.get(request.idempotency_key)
                if payment is None:
                    payment = self._new_charge(
                        request, methods.get(request.payment_method_token), fingerprint)
                    known[request.idempotency_key] = payment
                    new.append(payment)
                elif payment.request_fingerprint != fingerprint:
                    raise IdempotencyConflict(
                        "This idempotency key was used for a different charge")
                answers.append(payment)
            except GatewayError as exc:
                answers.append(exc)
        try:
            with transaction.atomic():
                SandboxPayment.objects.bulk_create(new)
        except IntegrityError:
            return [self._answer(self.charge, request) for request in requests]
        return [charge_result_of(answer) if isinstance(answer, SandboxPayment) else answer
                for answer in answers]

    @staticmethod
    def _answer(call, request):
        try:
            return call(request)
        except GatewayError as exc:
            return exc

    def _new_charge(self, request: ChargeRequest, method: SandboxPaymentMethod | None,
                    fingerprint: str) -> SandboxPayment:
        """The payment a new off-session charge makes (not saved): the card's behaviour."""
        if method is None:
            raise GatewayNotFound("No such sandbox payment method", code="payment_method_not_found")
        behaviour = card_for(method.card_number).off_session
        code, message = failure_of(behaviour)
        status = {Behaviour.SUCCEED: "succeeded", Behaviour.DECLINE: "failed",
                  Behaviour.AUTHENTICATE: "requires_action"}[behaviour]
        return SandboxPayment(
            **self._namespace, account_id=self.context.account_id or "",
            amount=request.amount, currency=request.currency.upper(),
            payment_method=method, card_number=method.card_number, off_session=True,
            status=status, failure_code=code, failure_message=message,
            idempotency_key=request.idempotency_key, request_fingerprint=fingerprint,
            metadata=dict(request.metadata),
        )

    def _existing_charge(self, key: str, fingerprint: str) -> ChargeResult | None:
        payment = SandboxPayment.objects.filter(**self._namespace, idempotency_key=key).first()
        if payment is None:
            return None
        if payment.request_fingerprint != fingerprint:
            raise IdempotencyConflict("This idempotency key was used for a different charge")
        return charge_result_of(payment)

    # --- refunds --------------------------------------------------------------------------

    def refund(self, request: RefundRequest) -> RefundResult:
        if request.amount <= 0:
            raise GatewayRejected("Amount must be positive", code="invalid_amount")
        with transaction.atomic():
            existing = SandboxRefund.objects.filter(
                **self._namespace, idempotency_key=request.idempotency_key
            ).first()
            if existing is not None:
                if (existing.payment_id, existing.amount) != (
                    request.provider_payment_id, request.amount
                ):
                    raise IdempotencyConflict("This idempotency key was used for another refund")
                return RefundResult(status=RefundStatus.SUCCEEDED, provider_refund_id=existing.id)
            payment = (
                SandboxPayment.objects.select_for_update()
                .filter(**self._namespace, pk=request.provider_payment_id)
                .first()
            )
            if payment is None:
                raise GatewayNotFound("No such sandbox payment")
            if payment.status != "succeeded":
                raise GatewayRejected("Only a succeeded payment can be refunded",
                                      code="payment_not_refundable")
            if payment.amount_refunded + request.amount > payment.amount:
                raise RefundExceedsPayment(
                    f"Refund of {request.amount} exceeds the {payment.amount - payment.amount_refunded}"
                    " left of the payment"
                )
            try:
                with transaction.atomic():
                    refund = SandboxRefund.objects.create(
                        **self._namespace, account_id=self.context.account_id or "",
                        payment=payment, amount=request.amount,
                        idempotency_key=request.idempotency_key,
                    )
            except IntegrityError:  # same key sent concurrently
                refund = SandboxRefund.objects.get(
                    **self._namespace, idempotency_key=request.idempotency_key
                )
                return RefundResult(status=RefundStatus.SUCCEEDED, provider_refund_id=refund.id)
            SandboxPayment.objects.filter(pk=payment.pk).update(
                amount_refunded=F("amount_refunded") + request.amount
            )
        return RefundResult(status=RefundStatus.SUCCEEDED, provider_refund_id=refund.id)

    # --- status -----------------------------------------------------------------------------

    def fetch_payment(self, lookup: PaymentLookup) -> PaymentStatusResult:
        payments = SandboxPayment.objects.filter(**self._namespace)
        if lookup.provider_payment_id:
            payment = payments.filter(pk=lookup.provider_payment_id).first()
        else:
            payment = payments.filter(idempotency_key=lookup.idempotency_key).first()
        if payment is None:
            return PaymentStatusResult(state=PaymentState.NOT_FOUND)
        return PaymentStatusResult(
            state=PaymentState(payment.status),
            provider_payment_id=payment.id,
            amount=payment.amount,
            currency=payment.currency,
            amount_refunded=payment.amount_refunded,
            failure_code=payment.failure_code,
            failure_message=payment.failure_message,
            action_url=authenticate_url(payment.id) if payment.status == "requires_action" else "",
        )

    # --- webhooks ---------------------------------------------------------------------------

    def list_payments(self, *, since: datetime, until: datetime) -> list[MoneyMovement]:
        return movements.payments(self._namespace, since=since, until=until)

    def list_refunds(self, *, since: datetime, until: datetime) -> list[MoneyMovement]:
        return movements.refunds(self._namespace, since=since, until=until)

    def parse_webhook(self, *, headers: Mapping[str, str], body: bytes) -> GatewayEvent:
        payload = signing.verified_payload(
            secret=self.context.webhook_secret, headers=headers, body=body
        )
        data = payload.get("data") or {}
        method = data.get("paymentMethod")
        try:
            event_type = EventType(payload.get("type"))
        except ValueError:
            event_type = EventType.OTHER
        return GatewayEvent(
            provider_event_id=payload["id"],
            type=event_type,
            raw_type=str(payload.get("type", "")),
            provider_payment_id=data.get("payment"),
            provider_refund_id=data.get("refund"),
            session_id=data.get("session"),
            amount=data.get("amount"),
            currency=data.get("currency", ""),
            failure_code=data.get("failureCode", ""),
            failure_message=data.get("failureMessage", ""),
            action_url=data.get("actionUrl", ""),
            payment_method=SavedPaymentMethod(**method) if isinstance(method, dict) else None,
            metadata=data.get("metadata") or {},
            merchant_id=payload.get("merchant"),
            environment=payload.get("environment"),
        )

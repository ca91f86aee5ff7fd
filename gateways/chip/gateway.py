"""The `chip` gateway: CHIP Collect purchases, recurring-token charges, refunds, RSA callbacks.

CHIP takes no idempotency key, so the contract's key is kept with the purchase it made
(`models.ChipRequest`): a retried charge reuses that purchase (CHIP pays a purchase once), a
retried refund answers the first one. A hosted session is a purchase with `force_recurring`
(and, for a set-up, a zero-price product with `skip_capture`): once paid, the purchase's id is
the recurring token that later charges use. CHIP needs the customer's email: pass it as
`metadata["email"]` when opening a session (charges reuse the token purchase's client).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from cynco.clock import wall_now
from gateways.base import (
    ChargeRequest,
    ChargeResult,
    CheckoutRequest,
    CheckoutSession,
    EventType,
    GatewayContext,
    GatewayError,
    GatewayEvent,
    GatewayNotFound,
    GatewayRejected,
    GatewayUnavailable,
    IdempotencyConflict,
    PaymentLookup,
    PaymentState,
    PaymentStatusResult,
    RefundExceedsPayment,
    RefundRequest,
    RefundResult,
    RefundStatus,
    SessionMode,
    WebhookVerificationError,
)
from gateways.chip import purchases, signing
from gateways.chip.client import ChipClient, ChipRefused
from gateways.chip.models import ChipRequest

NAME = "chip"
Kind = ChipRequest.Kind
_PUBLIC_KEYS: dict[tuple[str, str], str] = {}  # (base URL, API key digest) → PEM, per process


def _fingerprint(*parts) -> str:
    return hashlib.sha256("\x00".join(str(part) for part in parts).encode()).hexdigest()


class ChipGateway:
    """`gateways.base.Gateway` for CHIP Collect."""

    name = NAME

    def __init__(self, context: GatewayContext):
        self.context = context

    @staticmethod
    def missing_credentials(credentials: Mapping) -> list[str]:
        """The settings `manage.py check` reports missing from a server-default configuration."""
        missing = [] if credentials.get("secret_key") else ["CHIP_API_KEY"]
        return missing + ([] if (credentials.get("options") or {}).get("brand_id")
                          else ["CHIP_BRAND_ID"])

    # --- our records of CHIP calls ----------------------------------------------------------

    @property
    def _namespace(self) -> dict[str, str]:
        if not self.context.merchant_id:
            raise GatewayRejected("This CHIP gateway object only verifies webhooks")
        return {"merchant_id": self.context.merchant_id, "environment": self.context.environment}

    def _claim(self, kind: str, key: str, fingerprint: str, **fields) -> ChipRequest:
        """The record of the request made with `key`, created now or by an earlier call.

        Raises IdempotencyConflict for the same key with other parameters, and
        GatewayUnavailable while another call with the key is still waiting for CHIP.
        """
        now = wall_now()
        try:
            with transaction.atomic():
                return ChipRequest.objects.create(
                    **self._namespace, account_id=self.context.account_id or "", kind=kind,
                    idempotency_key=key, fingerprint=fingerprint, claimed_at=now, **fields,
                )
        except IntegrityError:
            row = ChipRequest.objects.get(**self._namespace, kind=kind, idempotency_key=key)
        if row.fingerprint != fingerprint:
            raise IdempotencyConflict(f"This idempotency key was used for another CHIP {kind}")
        if row.purchase_id or kind == Kind.REFUND:
            return row
        stale = now - timedelta(seconds=2 * settings.CHIP_TIMEOUT_SECONDS)
        taken = ChipRequest.objects.filter(pk=row.pk, purchase_id="", claimed_at__lt=stale
                                           ).update(claimed_at=now)
        if not taken:
            raise GatewayUnavailable("A call with this idempotency key is still in progress")
        row.claimed_at = now
        return row

    def _record_of(self, purchase_id: str) -> ChipRequest | None:
        """Our checkout or charge that made this purchase, in this merchant+environment: a
        purchase of anyone else's looks unknown."""
        return ChipRequest.objects.filter(
            **self._namespace, purchase_id=purchase_id, kind__in=(Kind.CHECKOUT, Kind.CHARGE)
        ).first()

    def _purchase_body(self, *, email: str, amount: int, currency: str, name: str, key: str,
                       metadata: Mapping[str, str]) -> dict:
        return {
            "brand_id": (self.context.options or {}).get("brand_id", ""),
            "client": {"email": email},
            "purchase": {
                "currency": currency.upper(),
                "products": [{"name": (name or "Payment")[:256], "price": amount}],
                "metadata": {**{str(k): str(v) for k, v in (metadata or {}).items()},
                             "cynco_merchant": self.context.merchant_id or "",
                             "cynco_environment": self.context.environment or ""},
            },
            "reference": key[:128],
            "success_callback": purchases.callback_url(self.context.account_id),
        }

    # --- checkout -------------------------------------------------------------------------

    def create_checkout_session(self, request: CheckoutRequest) -> CheckoutSession:
        mode = SessionMode(request.mode)
        if mode == SessionMode.PAYMENT and request.amount <= 0:
            raise GatewayRejected("A payment session needs a positive amount", code="invalid_amount")
        email = (request.metadata or {}).get("email", "")
        if not email:
            raise GatewayRejected("CHIP needs the customer's email (metadata['email'])",
                                  code="email_required")
        amount = request.amount if mode == SessionMode.PAYMENT else 0
        row = self._claim(Kind.CHECKOUT, request.idempotency_key, _fingerprint(
            mode, amount, request.currency.upper(), request.customer_reference,
            request.success_url, request.cancel_url, request.save_payment_method,
        ), customer_reference=request.customer_reference)
        client = ChipClient(self.context)
        if row.purchase_id:
            return purchases.session_of(client.purchase(row.purchase_id),
                                        customer_reference=row.customer_reference)
        body = self._purchase_body(email=email, amount=amount, currency=request.currency,
                                   name=request.description, key=request.idempotency_key,
                                   metadata=request.metadata)
        body.update({
            "success_redirect": request.success_url, "failure_redirect": request.cancel_url,
            "cancel_redirect": request.cancel_url,
            "force_recurring": bool(request.save_payment_method or mode == SessionMode.SETUP),
        })
        if mode == SessionMode.SETUP:
            body["skip_capture"] = True
        purchase = client.create_purchase(body)
        ChipRequest.objects.filter(pk=row.pk).update(purchase_id=purchase["id"])
        return purchases.session_of(purchase, customer_reference=request.customer_reference)

    def get_checkout_session(self, session_id: str) -> CheckoutSession:
        row = self._record_of(session_id)
        if row is None or row.kind != Kind.CHECKOUT:
            raise GatewayNotFound(f"No CHIP checkout session {session_id}")
        purchase = ChipClient(self.context).purchase(session_id)
        return purchases.session_of(purchase, customer_reference=row.customer_reference)

    # --- off-session charges ------------------------------------------------------------

    def charge(self, request: ChargeRequest) -> ChargeResult:
        if request.amount <= 0:
            raise GatewayRejected("Amount must be positive", code="invalid_amount")
        row = self._claim(Kind.CHARGE, request.idempotency_key, _fingerprint(
            request.payment_method_token, request.amount, request.currency.upper()),
            customer_reference=request.customer_reference[:64])
        client = ChipClient(self.context)
        if row.purchase_id:
            purchase = client.purchase(row.purchase_id)
        else:
            try:
                token = client.purchase(request.payment_method_token)
            except GatewayNotFound as exc:
                raise GatewayNotFound("No such CHIP recurring token",
                                      code="payment_method_not_found") from exc
            if not token.get("is_recurring_token"):
                raise GatewayNotFound("That CHIP purchase is not a recurring token",
                                      code="payment_method_not_found")
            email = (request.metadata or {}).get("email") or (token.get("client") or {}).get(
                "email", "")
            purchase = client.create_purchase(self._purchase_body(
                email=email, amount=request.amount, currency=request.currency,
                name=request.description, key=request.idempotency_key,
                metadata=request.metadata))
            ChipRequest.objects.filter(pk=row.pk).update(purchase_id=purchase["id"])
        if purchase.get("status") not in purchases.UNPAID:
            return purchases.charge_result_of(purchase)
        try:
            purchase = client.charge(purchase["id"], request.payment_method_token)
        except ChipRefused as exc:  # a decline: CHIP says 400, the purchase tells why
            return purchases.charge_result_of(client.purchase(purchase["id"]), exc.message)
        return purchases.charge_result_of(purchase)

    # --- refunds --------------------------------------------------------------------------

    def refund(self, request: RefundRequest) -> RefundResult:
        if request.amount <= 0:
            raise GatewayRejected("Amount must be positive", code="invalid_amount")
        if self._record_of(request.provider_payment_id) is None:
            raise GatewayNotFound(f"No CHIP payment {request.provider_payment_id}")
        row = self._claim(Kind.REFUND, request.idempotency_key, _fingerprint(
            request.provider_payment_id, request.amount), purchase_id=request.provider_payment_id)
        if row.refund_id:
            return RefundResult(status=RefundStatus.SUCCEEDED, provider_refund_id=row.refund_id)
        client = ChipClient(self.context)
        purchase = client.purchase(request.provider_payment_id)
        refundable = int(purchase.get("refundable_amount") or 0)
        if row.refundable_before is not None and refundable <= row.refundable_before - request.amount:
            # Sent before and CHIP's answer was lost: the money already went back.
            return RefundResult(status=RefundStatus.SUCCEEDED, provider_refund_id=row.refund_id)
        if purchase.get("status") not in purchases.PAID:
            raise GatewayRejected("Only a paid purchase can be refunded",
                                  code="payment_not_refundable")
        if request.amount > refundable:
            raise RefundExceedsPayment(
                f"Refund of {request.amount} exceeds the {refundable} left of the payment")
        ChipRequest.objects.filter(pk=row.pk).update(refundable_before=refundable)
        try:
            answer = client.refund(request.provider_payment_id, request.amount)
        except ChipRefused:
            ChipRequest.objects.filter(pk=row.pk).update(refundable_before=None)
            raise
        if answer.get("status") == "pending_refund":
            return RefundResult(status=RefundStatus.PENDING, provider_refund_id="")
        ChipRequest.objects.filter(pk=row.pk).update(refund_id=answer["id"])
        return RefundResult(status=RefundStatus.SUCCEEDED, provider_refund_id=answer["id"])

    # --- status -----------------------------------------------------------------------------

    def fetch_payment(self, lookup: PaymentLookup) -> PaymentStatusResult:
        purchase_id = lookup.provider_payment_id
        if purchase_id and self._record_of(purchase_id) is None:
            return PaymentStatusResult(state=PaymentState.NOT_FOUND)
        if not purchase_id:
            row = ChipRequest.objects.filter(**self._namespace, kind=Kind.CHARGE,
                                             idempotency_key=lookup.idempotency_key).first()
            purchase_id = row.purchase_id if row else ""
        if not purchase_id:
            return PaymentStatusResult(state=PaymentState.NOT_FOUND)
        try:
            purchase = ChipClient(self.context).purchase(purchase_id)
        except GatewayNotFound:
            return PaymentStatusResult(state=PaymentState.NOT_FOUND)
        return purchases.status_of(purchase)

    # --- callbacks --------------------------------------------------------------------------

    def _public_key(self) -> str:
        """The configured public key, else the one CHIP serves (fetched once per process)."""
        if "BEGIN PUBLIC KEY" in (self.context.webhook_secret or ""):
            return self.context.webhook_secret
        try:
            client = ChipClient(self.context)
            slot = (client.base_url, hashlib.sha256(client.api_key.encode()).hexdigest())
            if slot not in _PUBLIC_KEYS:
                _PUBLIC_KEYS[slot] = client.public_key()
        except GatewayError as exc:
            raise WebhookVerificationError(f"CHIP's public key is unavailable: {exc.message}") \
                from exc
        return _PUBLIC_KEYS[slot]

    def parse_webhook(self, *, headers: Mapping[str, str], body: bytes) -> GatewayEvent:
        signing.verify(public_key_pem=self._public_key(), headers=headers, body=body)
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise WebhookVerificationError("Body is not JSON") from exc
        if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
            raise WebhookVerificationError("Body is not a CHIP purchase or payment")
        return self._event_of(payload)

    def _event_of(self, payload: dict) -> GatewayEvent:
        raw_type = str(payload.get("event_type") or f"purchase.{payload.get('status', '')}")
        event_id = f"{raw_type}:{payload['id']}:{payload.get('updated_on', '')}"
        if payload.get("type") == "payment":  # payment.refunded delivers the refund payment
            related = payload.get("related_to") or {}
            return GatewayEvent(
                provider_event_id=event_id, raw_type=raw_type,
                type=EventType.REFUND_SUCCEEDED if raw_type == "payment.refunded"
                else EventType.OTHER,
                provider_refund_id=payload["id"], provider_payment_id=related.get("id"),
                amount=(payload.get("payment") or {}).get("amount"),
            )
        record = ChipRequest.objects.filter(
            purchase_id=payload["id"], kind__in=(Kind.CHECKOUT, Kind.CHARGE)).first()
        is_checkout = record is not None and record.kind == Kind.CHECKOUT
        status = payload.get("status")
        if status in purchases.PAID or (is_checkout and status in purchases.HELD):
            event_type = EventType.CHECKOUT_COMPLETED if is_checkout else EventType.PAYMENT_SUCCEEDED
        elif status == "error":
            event_type = EventType.OTHER if is_checkout else EventType.PAYMENT_FAILED
        elif status in purchases.CLOSED and is_checkout:
            event_type = EventType.CHECKOUT_EXPIRED
        else:
            event_type = EventType.OTHER
        code, message = purchases.failure_of(payload) if event_type == EventType.PAYMENT_FAILED \
            else ("", "")
        metadata = (payload.get("purchase") or {}).get("metadata") or {}
        return GatewayEvent(
            provider_event_id=event_id, type=event_type, raw_type=raw_type,
            provider_payment_id=payload["id"] if status in purchases.PAID or status == "error"
            else None,
            session_id=payload["id"] if is_checkout else None,
            amount=purchases.amount_of(payload), currency=purchases.currency_of(payload),
            failure_code=code, failure_message=message,
            payment_method=purchases.saved_method_of(payload)
            if event_type == EventType.CHECKOUT_COMPLETED else None,
            metadata={str(k): str(v) for k, v in metadata.items()},
            merchant_id=record.merchant_id if record else None,
            environment=record.environment if record else None,
        )

"""The `chip` gateway: CHIP Collect purchases, recurring-token charges, refunds, RSA callbacks.

CHIP takes no idempotency key, so the contract's key is kept with the purchase it made
(`models.ChipRequest`): a retried charge reuses that purchase (CHIP pays a purchase once), a
retried refund answers the first one. A hosted session is a purchase with `force_recurring`
(and, for a set-up, a zero-price product with `skip_capture`, which CHIP answers with a
`preauthorized` card check): once paid, the purchase's id is the recurring token that later
charges use. CHIP needs the customer's email: pass it as `metadata["email"]` when opening a
session (charges reuse the token purchase's client). A CHIP purchase has no metadata field, so
the caller's metadata stays with our record of the purchase and events read it from there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from cynco.clock import wall_now
from gateways.base import (
    Gateway,
    MoneyMovement,
    ChargeRequest,
    ChargeResult,
    CheckoutRequest,
    CheckoutSession,
    GatewayContext,
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
)
from gateways.chip import callbacks, movements, purchases
from gateways.chip.client import ChipClient, ChipRefused
from gateways.chip.models import ChipRequest

NAME = "chip"
Kind = ChipRequest.Kind


def _fingerprint(*parts) -> str:
    return hashlib.sha256("\x00".join(str(part) for part in parts).encode()).hexdigest()


def _metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (metadata or {}).items()}


class ChipGateway(Gateway):
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

    def _purchase_body(self, *, email: str, amount: int, currency: str, name: str, key: str
                       ) -> dict:
        return {
            "brand_id": (self.context.options or {}).get("brand_id", ""),
            "client": {"email": email},
            "purchase": {
                "currency": currency.upper(),
                "products": [{"name": (name or "Payment")[:256], "price": amount,
                              "quantity": 1}],
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
        ), customer_reference=request.customer_reference, metadata=_metadata(request.metadata))
        client = ChipClient(self.context)
        if row.purchase_id:
            return purchases.session_of(client.purchase(row.purchase_id),
                                        customer_reference=row.customer_reference)
        body = self._purchase_body(email=email, amount=amount, currency=request.currency,
                                   name=request.description, key=request.idempotency_key)
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
            customer_reference=request.customer_reference[:64],
            metadata=_metadata(request.metadata))
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
                name=request.description, key=request.idempotency_key))
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
            request.provider_payment_id, request.amount), purchase_id=request.provider_payment_id,
            amount=request.amount)
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

    # --- CHIP's record, for reconciliation -------------------------------------------------

    def _movements(self) -> movements.ChipMovements:
        return movements.ChipMovements(ChipClient(self.context), self._namespace,
                                       self.context.account_id or "")

    def list_payments(self, *, since: datetime, until: datetime) -> list[MoneyMovement]:
        return self._movements().payments(since=since, until=until)

    def list_refunds(self, *, since: datetime, until: datetime) -> list[MoneyMovement]:
        return self._movements().refunds(since=since, until=until)

    # --- callbacks --------------------------------------------------------------------------

    def parse_webhook(self, *, headers: Mapping[str, str], body: bytes) -> GatewayEvent:
        return callbacks.parse(self.context, headers=headers, body=body)

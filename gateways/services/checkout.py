"""Hosted checkout sessions and the payment methods they save."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction

from cynco import metrics
from cynco.tenancy import Scope
from gateways import registry
from gateways.base import (
    CheckoutRequest,
    CheckoutSession,
    SavedPaymentMethod,
    SessionMode,
)
from gateways.models import PaymentAttempt, PaymentMethod
from gateways.outcomes import (
    PaymentAttemptResult,
    PaymentMethodSummary,
    result_of,
    summary_of,
)
from gateways.services.settlement import refuse_inside_transaction


def checkout_session_create(
    *,
    scope: Scope,
    amount: int,
    currency: str,
    customer_reference: str,
    description: str,
    success_url: str,
    cancel_url: str,
    idempotency_key: str,
    save_payment_method: bool = False,
    mode: str = SessionMode.PAYMENT,
    metadata: Mapping[str, str] | None = None,
) -> CheckoutSession:
    """Open a hosted checkout (or card set-up) session on `scope`'s gateway.

    Calls the gateway, so it refuses to run inside a transaction; writes nothing here (the
    session lives at the gateway; billing keeps its id). The same key returns the same session.
    """
    refuse_inside_transaction("checkout_session_create")
    return registry.gateway_for(scope).create_checkout_session(CheckoutRequest(
        amount=amount, currency=currency.upper(), customer_reference=customer_reference,
        description=description, success_url=success_url, cancel_url=cancel_url,
        idempotency_key=idempotency_key, mode=SessionMode(mode),
        save_payment_method=save_payment_method, metadata=dict(metadata or {}),
    ))


def checkout_session_get(*, scope: Scope, session_id: str) -> CheckoutSession:
    """A checkout session as its gateway sees it now (GatewayNotFound when unknown)."""
    return registry.gateway_for(scope).get_checkout_session(session_id)


def checkout_session_confirm(*, scope: Scope, session_id: str, payment_method: str
                             ) -> CheckoutSession:
    """Complete a hosted session on our own checkout page with a payment method the gateway's
    browser library created (Stripe). Calls the gateway, so no transaction may be open; writes
    nothing. GatewayRejected (`not_supported`) for a gateway whose sessions are paid elsewhere."""
    refuse_inside_transaction("checkout_session_confirm")
    return registry.gateway_for(scope).confirm_checkout_session(session_id, payment_method)


def checkout_session_client_secret(*, scope: Scope, session_id: str) -> str:
    """What the gateway's browser library needs to finish a session on our page ('' if none)."""
    return registry.gateway_for(scope).checkout_client_secret(session_id)


def gateway_in_use(scope: Scope) -> tuple[str, str | None]:
    """(gateway name, operator account id or None) that `scope` pays through now."""
    account = registry.active_account(scope)
    if account is not None:
        return account.gateway, account.id
    return registry.default_gateway_name(scope.environment), None


def payment_method_save(
    *,
    scope: Scope,
    customer_reference: str,
    gateway: str,
    gateway_account_id: str | None,
    method: SavedPaymentMethod,
    make_default: bool = True,
) -> PaymentMethodSummary:
    """Remember a payment method a gateway saved for a customer (idempotent per token).

    Runs in one transaction; no customer lock (it moves no money) and no ledger entry. With
    `make_default` it becomes the customer's default, the previous default stays saved.
    """
    with transaction.atomic():
        saved, _ = PaymentMethod.objects.get_or_create(
            merchant_id=scope.merchant_id, environment=scope.environment, gateway=gateway,
            token=method.token,
            defaults={
                "customer_reference": customer_reference,
                "gateway_account_id": gateway_account_id, "type": method.type,
                "brand": method.brand, "last4": method.last4, "exp_month": method.exp_month,
                "exp_year": method.exp_year,
            },
        )
        if make_default and not saved.is_default:
            PaymentMethod.objects.for_scope(scope).filter(
                customer_reference=saved.customer_reference, is_default=True
            ).update(is_default=False)
            saved.is_default = True
            saved.save(update_fields=["is_default"])
    return summary_of(saved)


def payment_method_detach(*, scope: Scope, payment_method_id: str) -> PaymentMethodSummary:
    """Stop using a saved payment method (kept for the history of the attempts that used it)."""
    with transaction.atomic():
        method = PaymentMethod.objects.for_scope(scope).select_for_update().get(
            pk=payment_method_id
        )
        method.status = PaymentMethod.Status.DETACHED
        method.is_default = False
        method.save(update_fields=["status", "is_default"])
    return summary_of(method)


def checkout_charge_record(
    *,
    scope: Scope,
    session_id: str,
    provider_payment_id: str,
    amount: int,
    currency: str,
    customer_reference: str,
    source_reference: str = "",
) -> PaymentAttemptResult:
    """Record a payment made on a hosted checkout page as a succeeded charge attempt (key
    `checkout:<session id>`), so it is refunded through refund_start like an off-session
    charge. Calls no gateway (the page already charged), so it joins the caller's
    transaction; idempotent per session; takes no lock and posts no ledger entry."""
    account = registry.active_account(scope)
    attempt, created = PaymentAttempt.objects.get_or_create(
        merchant_id=scope.merchant_id, environment=scope.environment,
        idempotency_key=f"checkout:{session_id}",
        defaults={
            "kind": PaymentAttempt.Kind.CHARGE, "status": PaymentAttempt.Status.SUCCEEDED,
            "amount": amount, "currency": currency.upper(),
            "gateway": account.gateway if account else
            registry.default_gateway_name(scope.environment),
            "gateway_account_id": account.id if account else None,
            "customer_reference": customer_reference, "source_reference": source_reference,
            "provider_payment_id": provider_payment_id, "description": "Hosted checkout",
        },
    )
    if created:
        metrics.payment_attempt_settled(attempt)
    return result_of(attempt)

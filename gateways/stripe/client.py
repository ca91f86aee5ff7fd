"""Talking to Stripe: a `stripe.StripeClient` built per call, and Stripe's errors in our words.

Nothing outside `gateways/stripe/` imports `stripe`. The client is built from the gateway
context's credentials (the server's default account or an operator's `GatewayAccount`) and the
API base of `settings.STRIPE_API_BASE` (or the account's `options["api_base"]`), so tests point
it at localstripe. Every response is turned into a plain dict before the gateway reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import stripe
from django.conf import settings

from gateways.base import (
    GatewayContext,
    GatewayError,
    GatewayNotFound,
    GatewayRejected,
    GatewayUnavailable,
    IdempotencyConflict,
    RefundExceedsPayment,
)

# Stripe's codes for a refund larger than what is left of the charge.
_REFUND_TOO_LARGE = {"amount_too_large", "charge_already_refunded", "charge_exceeds_source_limit"}


def stripe_client(context: GatewayContext) -> stripe.StripeClient:
    """A client acting with `context`'s secret key (GatewayUnavailable when none is set: the
    charge waits for the operator to configure the account rather than failing the customer)."""
    if not context.secret_key:
        raise GatewayUnavailable("No Stripe secret key is configured for this account",
                                 code="gateway_not_configured")
    return stripe.StripeClient(
        context.secret_key,
        base_addresses={"api": api_base(context)},
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
    )


def api_base(context: GatewayContext) -> str:
    return (context.options or {}).get("api_base") or settings.STRIPE_API_BASE


def as_dict(obj: Any) -> dict:
    """A Stripe response as a plain dict (nested objects included)."""
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj or {})


def error_body(exc: stripe.StripeError) -> dict:
    body = exc.json_body if isinstance(exc.json_body, dict) else {}
    error = body.get("error")
    return error if isinstance(error, dict) else {}


def translated(exc: stripe.StripeError) -> GatewayError:
    """The contract's typed error for one of Stripe's."""
    message = error_body(exc).get("message") or str(exc) or type(exc).__name__
    code = getattr(exc, "code", None) or error_body(exc).get("code") or ""
    if isinstance(exc, stripe.IdempotencyError):
        return IdempotencyConflict(message)
    if isinstance(exc, (stripe.AuthenticationError, stripe.PermissionError)):
        return GatewayUnavailable(message, code="gateway_misconfigured")
    if isinstance(exc, (stripe.RateLimitError, stripe.APIConnectionError)):
        return GatewayUnavailable(message)
    if isinstance(exc, stripe.InvalidRequestError):
        if code in _REFUND_TOO_LARGE:
            return RefundExceedsPayment(message)
        if exc.http_status == 404 or code == "resource_missing":
            return GatewayNotFound(message)
        return GatewayRejected(message, code=code or "invalid_request")
    if isinstance(exc, stripe.CardError):
        return GatewayRejected(message, code="payment_failed")
    if exc.http_status is not None and exc.http_status < 500:
        return GatewayRejected(message, code=code or "gateway_rejected")
    return GatewayUnavailable(message)


@contextmanager
def stripe_calls() -> Iterator[None]:
    """Let no `stripe` exception out: each becomes the contract's typed error."""
    try:
        yield
    except stripe.StripeError as exc:
        raise translated(exc) from exc

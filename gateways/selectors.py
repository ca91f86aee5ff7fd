"""Reads of the gateways app, for billing (CustomerState.paymentMethods) and the admin."""

from __future__ import annotations

from cynco.tenancy import Scope
from gateways.models import PaymentAttempt, PaymentMethod
from gateways.outcomes import (
    PaymentAttemptNotFound,
    PaymentAttemptResult,
    PaymentMethodSummary,
    result_of,
    summary_of,
)


def payment_methods_of(*, scope: Scope, customer_reference: str) -> list[PaymentMethodSummary]:
    """A customer's active payment methods, the default first, then the newest."""
    methods = PaymentMethod.objects.for_scope(scope).filter(
        customer_reference=customer_reference, status=PaymentMethod.Status.ACTIVE
    ).order_by("-is_default", "-created_at")
    return [summary_of(method) for method in methods]


def default_payment_method(*, scope: Scope, customer_reference: str
                           ) -> PaymentMethodSummary | None:
    methods = payment_methods_of(scope=scope, customer_reference=customer_reference)
    return methods[0] if methods else None


def payment_attempt(*, scope: Scope, attempt_id: str) -> PaymentAttemptResult:
    attempt = PaymentAttempt.objects.for_scope(scope).filter(pk=attempt_id).first()
    if attempt is None:
        raise PaymentAttemptNotFound(attempt_id)
    return result_of(attempt)


def attempts_for_source(*, scope: Scope, source_reference: str) -> list[PaymentAttemptResult]:
    """Every attempt made for one source (an invoice id, say), oldest first."""
    attempts = PaymentAttempt.objects.for_scope(scope).filter(
        source_reference=source_reference
    ).order_by("created_at")
    return [result_of(attempt) for attempt in attempts]

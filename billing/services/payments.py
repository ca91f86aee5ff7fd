"""Paying what subscribe, renewals and dunning owe, with a gateway call outside every lock.

    1. a billing transaction (customer lock) writes what is owed: a Checkout or an open invoice
    2. charge_start / charge_execute (gateways) with no transaction open
    3. a second billing transaction records the outcome (checkout_fulfil, renewal_settle)

Attempt keys are derived from our own ids (the checkout's or the invoice's, and the request's
Idempotency-Key when there is one), and a source that already has a live attempt is never
charged again, so a retried or concurrent request charges once.
"""

from __future__ import annotations

from dataclasses import dataclass

from billing.models import Checkout, Refund
from gateways.models import PaymentAttempt
from gateways.outcomes import PaymentAttemptResult
from gateways.selectors import attempts_for_source, default_payment_method
from gateways.services.payments import charge_execute, charge_start
from cynco.tenancy import Scope

LIVE = (PaymentAttempt.Status.PENDING, PaymentAttempt.Status.SUCCEEDED,
        PaymentAttempt.Status.REQUIRES_ACTION)


@dataclass(frozen=True)
class Collection:
    """How charging a saved card went: no card, or the attempt's result."""

    attempt: PaymentAttemptResult | None

    @property
    def succeeded(self) -> bool:
        return self.attempt is not None and self.attempt.succeeded


def has_saved_card(scope: Scope, customer_id: str) -> bool:
    return default_payment_method(scope=scope, customer_reference=customer_id) is not None


def charge_saved_card(*, scope: Scope, customer_id: str, amount: int, currency: str,
                      source: str, key: str, description: str = "") -> Collection:
    """Charge the customer's default card `amount` for `source` (a checkout or invoice id),
    unless an attempt for `source` is already pending, succeeded or waiting for 3-D Secure
    (then that attempt is the answer). No transaction may be open; takes no lock."""
    for attempt in reversed(attempts_for_source(scope=scope, source_reference=source)):
        if attempt.kind == PaymentAttempt.Kind.CHARGE and attempt.status in LIVE:
            if attempt.status == PaymentAttempt.Status.PENDING:
                return Collection(charge_execute(attempt_id=attempt.id))
            return Collection(attempt)
    method = default_payment_method(scope=scope, customer_reference=customer_id)
    if method is None:
        return Collection(None)
    started = charge_start(
        scope=scope, payment_method_id=method.id, amount=amount, currency=currency,
        idempotency_key=key, source_reference=source, description=description,
    )
    if started.is_final or started.status == PaymentAttempt.Status.REQUIRES_ACTION:
        return Collection(started)
    return Collection(charge_execute(attempt_id=started.id))


def on_payment_settled(*, result: PaymentAttemptResult, via: str) -> None:
    """settings.PAYMENT_ATTEMPT_HANDLERS: an attempt settled later (3-D Secure completed, the
    sweeper) — fulfil the checkout or settle the renewal it paid for, or record a refund's
    outcome. Idempotent."""
    from billing.services.checkouts import checkout_fulfil
    from billing.services.refunds import refund_settle
    from billing.services.renewals import renewal_settle
    from billing.services.unapplied_payments import PREFIX, unapplied_refund_settle

    scope = Scope(result.merchant_id, result.environment)
    source = result.source_reference
    if result.kind == PaymentAttempt.Kind.REFUND:
        if source.startswith("pref_") and Refund.objects.for_scope(scope).filter(
                pk=source).exists():
            refund_settle(scope=scope, refund_id=source, result=result)
        elif source.startswith(PREFIX):
            unapplied_refund_settle(scope=scope, unapplied_id=source, result=result)
        return
    if source.startswith("pchk_"):
        if result.succeeded and Checkout.objects.filter(pk=source).exists():
            checkout_fulfil(scope=scope, checkout_id=source,
                            payment_id=result.provider_payment_id, gateway=result.gateway,
                            attempt_id=result.id)
    elif source.startswith("pinv_"):
        renewal_settle(scope=scope, invoice_id=source, attempt=result)

"""What the gateways app hands back to billing: plain dataclasses, never model rows."""

from __future__ import annotations

from dataclasses import dataclass

from gateways.models import PaymentAttempt, PaymentMethod


class PaymentAttemptKeyReused(ValueError):
    """A payment attempt's idempotency key was used before for a different charge or refund."""


class ChargeNotRefundable(ValueError):
    """Only a succeeded charge can be refunded."""


class AttemptInsideTransaction(RuntimeError):
    """A gateway flow was called inside an open transaction (DESIGN.md: commit before the call)."""


@dataclass(frozen=True)
class PaymentAttemptResult:
    """A charge or refund attempt as it stands; `status` is pending until the gateway answered."""

    id: str
    kind: str
    status: str
    amount: int
    currency: str
    gateway: str
    idempotency_key: str
    customer_reference: str
    source_reference: str
    provider_payment_id: str
    provider_refund_id: str
    failure_code: str
    failure_message: str
    action_url: str
    charge_id: str | None
    merchant_id: str
    environment: str

    @property
    def succeeded(self) -> bool:
        return self.status == PaymentAttempt.Status.SUCCEEDED

    @property
    def is_final(self) -> bool:
        return self.status in PaymentAttempt.FINAL


def result_of(attempt: PaymentAttempt) -> PaymentAttemptResult:
    return PaymentAttemptResult(
        id=attempt.id, kind=attempt.kind, status=attempt.status, amount=attempt.amount,
        currency=attempt.currency, gateway=attempt.gateway,
        idempotency_key=attempt.idempotency_key,
        customer_reference=attempt.customer_reference,
        source_reference=attempt.source_reference,
        provider_payment_id=attempt.provider_payment_id,
        provider_refund_id=attempt.provider_refund_id, failure_code=attempt.failure_code,
        failure_message=attempt.failure_message, action_url=attempt.action_url,
        charge_id=attempt.charge_id, merchant_id=attempt.merchant_id,
        environment=attempt.environment,
    )


@dataclass(frozen=True)
class PaymentMethodSummary:
    """A saved payment method as billing shows it (CustomerState.paymentMethods)."""

    id: str
    customer_reference: str
    gateway: str
    type: str
    brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None
    is_default: bool
    status: str


def summary_of(method: PaymentMethod) -> PaymentMethodSummary:
    return PaymentMethodSummary(
        id=method.id, customer_reference=method.customer_reference, gateway=method.gateway,
        type=method.type, brand=method.brand, last4=method.last4, exp_month=method.exp_month,
        exp_year=method.exp_year, is_default=method.is_default, status=method.status,
    )


class PaymentMethodNotFound(LookupError):
    """No active payment method with that id in the merchant+environment."""


class PaymentAttemptNotFound(LookupError):
    """No payment attempt with that id in the merchant+environment."""

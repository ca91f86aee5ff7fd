"""The contract every payment gateway implements (DESIGN.md, Gateways).

After Saleor's payment interface: small frozen dataclasses go in and come out, so gateways are
interchangeable and nothing outside a gateway's own sub-package imports `stripe` or speaks
CHIP. Amounts are integers in minor units with an ISO currency code, as everywhere else.

A gateway object is built by `gateways.registry` for one merchant+environment from a
`GatewayContext` (which credentials to use) and is cheap to build; it keeps no state of its own
between calls. Every call that moves money takes an idempotency key: the same key must give the
first call's result and never move money twice (this is what makes the pending-attempt recovery
of `gateways.services.recovery` safe).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable


class ChargeStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REQUIRES_ACTION = "requires_action"


class PaymentState(StrEnum):
    """What `fetch_payment` can answer: a charge's outcome, or that it is unknown to the gateway."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    NOT_FOUND = "not_found"


class RefundStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PENDING = "pending"


class SessionStatus(StrEnum):
    OPEN = "open"
    REQUIRES_ACTION = "requires_action"
    COMPLETE = "complete"
    EXPIRED = "expired"


class SessionMode(StrEnum):
    PAYMENT = "payment"  # take `amount` now (and save the card when asked)
    SETUP = "setup"  # only save a card for later off-session charges


class EventType(StrEnum):
    """The normalized kinds of incoming webhook events; anything else is `OTHER`."""

    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_FAILED = "payment.failed"
    PAYMENT_REQUIRES_ACTION = "payment.requires_action"
    REFUND_SUCCEEDED = "refund.succeeded"
    REFUND_FAILED = "refund.failed"
    CHECKOUT_COMPLETED = "checkout.completed"
    CHECKOUT_EXPIRED = "checkout.expired"
    OTHER = "other"


# Failure codes shared by every gateway (a gateway maps its own codes onto these where it can).
PAYMENT_FAILED = "payment_failed"
THREE_DS_REQUIRED = "3ds_required"


@dataclass(frozen=True)
class GatewayContext:
    """Which merchant+environment a gateway object acts for and with which credentials.

    `account_id` is the operator-assigned `GatewayAccount`, or None for the server's default
    credentials of that environment. `merchant_id` is None only when verifying a webhook that
    arrived on a default endpoint, before anyone knows whose it is.
    """

    name: str
    merchant_id: str | None
    environment: str | None
    account_id: str | None = None
    secret_key: str = ""
    webhook_secret: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SavedPaymentMethod:
    """A card (or other method) the gateway keeps for off-session charges; `token` is its id."""

    token: str
    type: str = "card"
    brand: str = ""
    last4: str = ""
    exp_month: int | None = None
    exp_year: int | None = None


@dataclass(frozen=True)
class CheckoutRequest:
    """A hosted checkout (mode payment) or card set-up (mode setup) session."""

    amount: int
    currency: str
    customer_reference: str
    description: str
    success_url: str
    cancel_url: str
    idempotency_key: str
    mode: SessionMode = SessionMode.PAYMENT
    save_payment_method: bool = False
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckoutSession:
    session_id: str
    redirect_url: str
    status: SessionStatus
    amount: int = 0
    currency: str = ""
    customer_reference: str = ""
    provider_payment_id: str | None = None
    payment_method: SavedPaymentMethod | None = None
    failure_code: str = ""
    failure_message: str = ""
    action_url: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ChargeRequest:
    """Charge a saved payment method with the customer absent (renewals, upgrades, dunning)."""

    payment_method_token: str
    amount: int
    currency: str
    idempotency_key: str
    customer_reference: str = ""
    description: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ChargeResult:
    status: ChargeStatus
    provider_payment_id: str
    failure_code: str = ""
    failure_message: str = ""
    action_url: str = ""


@dataclass(frozen=True)
class RefundRequest:
    provider_payment_id: str
    amount: int
    idempotency_key: str
    reason: str = ""


@dataclass(frozen=True)
class RefundResult:
    status: RefundStatus
    provider_refund_id: str
    failure_code: str = ""
    failure_message: str = ""


@dataclass(frozen=True)
class PaymentLookup:
    """Find a charge by the gateway's id, or, when the call that made it never answered, by the
    idempotency key it was sent with."""

    idempotency_key: str
    provider_payment_id: str | None = None


@dataclass(frozen=True)
class PaymentStatusResult:
    state: PaymentState
    provider_payment_id: str | None = None
    amount: int | None = None
    currency: str = ""
    amount_refunded: int = 0
    failure_code: str = ""
    failure_message: str = ""
    action_url: str = ""


@dataclass(frozen=True)
class GatewayEvent:
    """An incoming webhook event, verified and normalized. `raw_type` is the gateway's own name."""

    provider_event_id: str
    type: EventType
    raw_type: str
    provider_payment_id: str | None = None
    provider_refund_id: str | None = None
    session_id: str | None = None
    amount: int | None = None
    currency: str = ""
    failure_code: str = ""
    failure_message: str = ""
    action_url: str = ""
    payment_method: SavedPaymentMethod | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    # Whose event it is, when the gateway can tell (it put them in the provider's metadata).
    merchant_id: str | None = None
    environment: str | None = None


class MovementKind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"


@dataclass(frozen=True)
class MoneyMovement:
    """A payment a gateway took or a refund it gave back, as the gateway itself records it
    (`list_payments`, `list_refunds`): what reconciliation compares with the books.

    `provider_id` is the gateway's id of the payment (what charges answer as
    `provider_payment_id`) or of the refund; a refund's `payment_id` is the payment it returns.
    `at` is when the gateway took or returned the money (UTC).
    """

    kind: MovementKind
    provider_id: str
    amount: int
    currency: str
    at: datetime
    payment_id: str = ""


@runtime_checkable
class Gateway(Protocol):
    """What billing may ask of a payment provider. Every method may raise a `GatewayError`.

    A gateway class subclasses this protocol: the required methods have no body here; the
    optional ones (`charge_many`, `confirm_checkout_session`, `checkout_client_secret`,
    `missing_credentials`) have a default that a gateway overrides when it can do better, so
    callers call them directly and never probe for them.
    """

    name: str
    context: GatewayContext

    def create_checkout_session(self, request: CheckoutRequest) -> CheckoutSession:
        """Open a hosted page where the customer pays (or saves a card); same key, same session."""

    def get_checkout_session(self, session_id: str) -> CheckoutSession:
        """The session as it stands (raises `GatewayNotFound` for an unknown id)."""

    def charge(self, request: ChargeRequest) -> ChargeResult:
        """Charge a saved payment method off-session. A decline is a result, not an exception."""

    def refund(self, request: RefundRequest) -> RefundResult:
        """Refund part or all of a succeeded charge (`RefundExceedsPayment` past what is left)."""

    def fetch_payment(self, lookup: PaymentLookup) -> PaymentStatusResult:
        """A charge's state now; `NOT_FOUND` when the gateway never received it."""

    def parse_webhook(self, *, headers: Mapping[str, str], body: bytes) -> GatewayEvent:
        """Verify an incoming webhook's signature and normalize it (`WebhookVerificationError`)."""

    def list_payments(self, *, since: datetime, until: datetime) -> list[MoneyMovement]:
        """The payments of this merchant+environment the gateway took in [since, until) and
        still counts as taken (refunded or not; a payment later disputed or reversed too)."""

    def list_refunds(self, *, since: datetime, until: datetime) -> list[MoneyMovement]:
        """The refunds of this merchant+environment's payments the gateway made in
        [since, until), whoever asked for them (us, or someone in the gateway's dashboard)."""

    # --- optional: a default here, overridden by a gateway that does better -------------------

    def charge_many(self, requests: Sequence[ChargeRequest]
                    ) -> list[ChargeResult | GatewayError]:
        """`charge` for each request (a batch job's charges), each answer what `charge` answers
        or the `GatewayUnavailable`/`GatewayRejected` it raises. A gateway that can charge many
        at once (the sandbox) overrides this."""
        answers: list[ChargeResult | GatewayError] = []
        for request in requests:
            try:
                answers.append(self.charge(request))
            except (GatewayUnavailable, GatewayRejected) as exc:
                answers.append(exc)
        return answers

    def confirm_checkout_session(self, session_id: str, payment_method: str) -> CheckoutSession:
        """Pay a hosted session on our own checkout page with a payment method the gateway's
        browser library made (Stripe). Gateways whose sessions are paid on their own pages
        refuse (`not_supported`)."""
        raise GatewayRejected(f"{self.name} sessions are not paid on our page",
                              code="not_supported")

    def checkout_client_secret(self, session_id: str) -> str:
        """What the gateway's browser library needs to finish a session on our page ('' if
        nothing)."""
        return ""

    @staticmethod
    def missing_credentials(credentials: Mapping) -> list[str]:
        """The settings `manage.py check` reports missing from a server-default configuration
        of this gateway (none by default)."""
        return []


class GatewayError(Exception):
    """Base of every error a gateway raises. `code` is stable and machine-readable."""

    code = "gateway_error"

    def __init__(self, message: str = "", *, code: str | None = None):
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = str(self)
        if code:
            self.code = code


class GatewayUnavailable(GatewayError):
    """The gateway could not be reached or timed out: the outcome is unknown; retry later."""

    code = "gateway_unavailable"


class GatewayRejected(GatewayError):
    """The gateway refused the request itself (bad token, bad amount): nothing happened."""

    code = "gateway_rejected"


class GatewayNotFound(GatewayRejected):
    """The gateway knows no such session, payment or payment method."""

    code = "not_found"


class RefundExceedsPayment(GatewayRejected):
    """The refund is larger than what is left of the payment."""

    code = "refund_exceeds_payment"


class IdempotencyConflict(GatewayRejected):
    """The idempotency key was already used with different parameters."""

    code = "idempotency_conflict"


class WebhookVerificationError(GatewayError):
    """The webhook's signature is missing, wrong or too old; the event must not be trusted."""

    code = "webhook_verification_failed"


class UnknownGateway(GatewayError):
    """No gateway of that name is installed (settings.GATEWAY_CLASSES)."""

    code = "unknown_gateway"

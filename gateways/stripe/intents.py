"""Reading Stripe's PaymentIntents and SetupIntents (as plain dicts) in the contract's words.

A hosted session is a PaymentIntent (mode payment) or a SetupIntent (mode setup) completed on
our own checkout page with Stripe.js (`settings.STRIPE_CHECKOUT_URL`): localstripe does not
emulate Checkout Sessions, and the intents behave the same on real Stripe (docs/gateways.md).
Our bookkeeping travels in the intent's metadata under `cynco_*` keys.
"""

from __future__ import annotations

from django.conf import settings

from gateways.base import (
    PAYMENT_FAILED,
    THREE_DS_REQUIRED,
    ChargeResult,
    ChargeStatus,
    CheckoutSession,
    GatewayUnavailable,
    PaymentState,
    PaymentStatusResult,
    SavedPaymentMethod,
    SessionStatus,
)

META_KEY = "cynco_idempotency_key"
META_MERCHANT = "cynco_merchant"
META_ENVIRONMENT = "cynco_environment"
META_CUSTOMER = "cynco_customer"
META_SESSION = "cynco_checkout"  # "payment" | "setup": the intent is a hosted session
META_SAVE = "cynco_save_method"
META_SUCCESS_URL = "cynco_success_url"
META_CANCEL_URL = "cynco_cancel_url"
AUTHENTICATION_REQUIRED = "authentication_required"


def checkout_url(intent_id: str) -> str:
    """Our own page where the customer pays, saves a card or passes 3-D Secure for an intent."""
    return settings.STRIPE_CHECKOUT_URL.format(base=settings.PUBLIC_BASE_URL,
                                               session_id=intent_id)


def merchant_metadata(metadata) -> dict[str, str]:
    """The caller's own metadata, without our bookkeeping keys."""
    return {k: v for k, v in (metadata or {}).items() if not k.startswith("cynco_")
            or k == "cynco_attempt"}


def last_error(intent: dict) -> dict:
    error = intent.get("last_payment_error") or intent.get("last_setup_error") or {}
    return error if isinstance(error, dict) else {}


def failure_of(error: dict) -> tuple[str, str]:
    """(shared failure code, message) of a Stripe error; Stripe's own code kept in the message."""
    if not error:
        return "", ""
    code = error.get("decline_code") or error.get("code") or ""
    if error.get("code") == AUTHENTICATION_REQUIRED:
        return THREE_DS_REQUIRED, error.get("message") or "Authentication required"
    message = error.get("message") or "The payment was declined"
    return PAYMENT_FAILED, f"{message} ({code})" if code else message


def action_url_of(intent: dict) -> str:
    """Where the customer completes 3-D Secure: Stripe's redirect when it gives one, else our
    checkout page, which confirms the intent with Stripe.js."""
    redirect = ((intent.get("next_action") or {}).get("redirect_to_url") or {}).get("url")
    return redirect or checkout_url(intent["id"])


def needs_authentication(intent: dict) -> bool:
    return intent.get("status") == "requires_action" or (
        intent.get("status") == "requires_payment_method"
        and last_error(intent).get("code") == AUTHENTICATION_REQUIRED
    )


def id_of(value) -> str | None:
    if isinstance(value, dict):
        return value.get("id")
    return value or None


def saved_method_of(method: dict | None) -> SavedPaymentMethod | None:
    if not method:
        return None
    card = method.get("card") or {}
    return SavedPaymentMethod(
        token=method["id"], type=method.get("type") or "card", brand=card.get("brand") or "",
        last4=card.get("last4") or "", exp_month=card.get("exp_month"),
        exp_year=card.get("exp_year"),
    )


def charge_result_of(intent: dict) -> ChargeResult:
    """An off-session PaymentIntent's outcome. `processing` has no outcome yet: the attempt stays
    pending (GatewayUnavailable) and the webhook or the sweeper settles it."""
    status = intent.get("status")
    if status == "succeeded":
        return ChargeResult(status=ChargeStatus.SUCCEEDED, provider_payment_id=intent["id"])
    if needs_authentication(intent):
        return ChargeResult(
            status=ChargeStatus.REQUIRES_ACTION, provider_payment_id=intent["id"],
            failure_code=THREE_DS_REQUIRED, failure_message="3-D Secure authentication required",
            action_url=action_url_of(intent),
        )
    if status in ("processing", "requires_capture", "requires_confirmation"):
        raise GatewayUnavailable(f"Stripe payment {intent['id']} is {status}")
    code, message = failure_of(last_error(intent))
    return ChargeResult(status=ChargeStatus.FAILED, provider_payment_id=intent["id"],
                        failure_code=code or PAYMENT_FAILED,
                        failure_message=message or f"Payment {status}")


def status_of(intent: dict) -> PaymentStatusResult:
    status = intent.get("status")
    charge = intent.get("latest_charge")
    refunded = charge.get("amount_refunded", 0) if isinstance(charge, dict) else 0
    code, message = failure_of(last_error(intent))
    if status == "succeeded":
        state = PaymentState.SUCCEEDED
    elif needs_authentication(intent):
        state = PaymentState.REQUIRES_ACTION
    elif status in ("processing", "requires_capture", "requires_confirmation"):
        state = PaymentState.PROCESSING
    else:
        state = PaymentState.FAILED
    return PaymentStatusResult(
        state=state, provider_payment_id=intent["id"], amount=intent.get("amount"),
        currency=(intent.get("currency") or "").upper(), amount_refunded=refunded or 0,
        failure_code=code if state == PaymentState.FAILED else "",
        failure_message=message if state == PaymentState.FAILED else "",
        action_url=action_url_of(intent) if state == PaymentState.REQUIRES_ACTION else "",
    )


_SESSION_STATUS = {"succeeded": SessionStatus.COMPLETE, "requires_action": SessionStatus.REQUIRES_ACTION,
                   "canceled": SessionStatus.EXPIRED}


def session_of(intent: dict, method: dict | None) -> CheckoutSession:
    """A PaymentIntent or SetupIntent as a hosted session; `method` is its payment method."""
    metadata = intent.get("metadata") or {}
    status = _SESSION_STATUS.get(intent.get("status"), SessionStatus.OPEN)
    is_payment = intent["id"].startswith("pi_")
    code, message = failure_of(last_error(intent))
    saves = not is_payment or metadata.get(META_SAVE) == "1"
    return CheckoutSession(
        session_id=intent["id"],
        redirect_url=checkout_url(intent["id"]),
        status=status,
        amount=intent.get("amount") or 0 if is_payment else 0,
        currency=(intent.get("currency") or metadata.get("cynco_currency") or "").upper(),
        customer_reference=metadata.get(META_CUSTOMER, ""),
        provider_payment_id=intent["id"] if is_payment and status in (
            SessionStatus.COMPLETE, SessionStatus.REQUIRES_ACTION) else None,
        payment_method=saved_method_of(method) if status == SessionStatus.COMPLETE and saves
        else None,
        failure_code=code if status == SessionStatus.OPEN else "",
        failure_message=message if status == SessionStatus.OPEN else "",
        action_url=action_url_of(intent) if status == SessionStatus.REQUIRES_ACTION else "",
        metadata=merchant_metadata(metadata),
    )

"""Reading CHIP purchases (plain dicts) in the contract's words.

Status names and fields are CHIP's, as its SDKs and plugins define them (docs/gateways.md has
the table of each field we read and where it is defined): `refunded` means refunded fully or
partly, `preauthorized` is a zero-amount card check that saved the card.
"""

from __future__ import annotations

from django.conf import settings

from gateways.base import (
    PAYMENT_FAILED,
    ChargeResult,
    ChargeStatus,
    CheckoutSession,
    GatewayUnavailable,
    PaymentState,
    PaymentStatusResult,
    SavedPaymentMethod,
    SessionStatus,
)

PAID = {"paid", "cleared", "settled", "refunded", "pending_refund", "chargeback"}
HELD = {"hold", "preauthorized"}  # card checked without capture: a set-up session's end
UNPAID = {"created", "sent", "viewed"}
PENDING = {"pending_charge", "pending_execute", "pending_capture", "pending_release"}
CLOSED = {"expired", "cancelled", "overdue", "blocked", "released"}


def amount_of(purchase: dict) -> int:
    details = purchase.get("purchase") or {}
    if details.get("total") is not None:
        return int(details["total"])
    return sum(int(p.get("price", 0)) * int(float(p.get("quantity", 1) or 1))
               for p in details.get("products") or [])


def currency_of(purchase: dict) -> str:
    return ((purchase.get("purchase") or {}).get("currency") or "").upper()


def failure_of(purchase: dict, fallback: str = "") -> tuple[str, str]:
    """The latest attempt's error (CHIP: `transaction_data.attempts[]`, newest first)."""
    attempts = (purchase.get("transaction_data") or {}).get("attempts") or []
    error = (attempts[0].get("error") if attempts and isinstance(attempts[0], dict) else None) or {}
    message = error.get("message") or fallback or "The payment was declined"
    code = error.get("code")
    return PAYMENT_FAILED, f"{message} ({code})" if code else message


def _number(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def saved_method_of(purchase: dict) -> SavedPaymentMethod | None:
    """A purchase paid with `force_recurring` is itself the recurring token; the card is
    described in `transaction_data.extra` (`expiry_year` has two digits)."""
    if not purchase.get("is_recurring_token"):
        return None
    extra = (purchase.get("transaction_data") or {}).get("extra") or {}
    year = _number(extra.get("expiry_year"))
    return SavedPaymentMethod(
        token=purchase["id"], type="card", brand=str(extra.get("card_brand") or ""),
        last4=str(extra.get("masked_pan") or "")[-4:], exp_month=_number(extra.get(
            "expiry_month")), exp_year=year + 2000 if year is not None and year < 100 else year)


def charge_result_of(purchase: dict, refusal: str = "") -> ChargeResult:
    status = purchase.get("status")
    if status in PAID:
        return ChargeResult(status=ChargeStatus.SUCCEEDED, provider_payment_id=purchase["id"])
    if status in PENDING:
        raise GatewayUnavailable(f"CHIP purchase {purchase['id']} is {status}")
    code, message = failure_of(purchase, refusal)
    return ChargeResult(status=ChargeStatus.FAILED, provider_payment_id=purchase["id"],
                        failure_code=code, failure_message=message)


def status_of(purchase: dict) -> PaymentStatusResult:
    status = purchase.get("status")
    if status in UNPAID:  # created but never charged: the charge itself never reached CHIP
        return PaymentStatusResult(state=PaymentState.NOT_FOUND)
    amount = amount_of(purchase)
    if status in PAID:
        refundable = purchase.get("refundable_amount")
        refunded = amount - int(refundable) if refundable is not None else 0
        return PaymentStatusResult(state=PaymentState.SUCCEEDED, provider_payment_id=purchase["id"],
                                   amount=amount, currency=currency_of(purchase),
                                   amount_refunded=max(refunded, 0))
    if status in PENDING:
        return PaymentStatusResult(state=PaymentState.PROCESSING,
                                   provider_payment_id=purchase["id"], amount=amount,
                                   currency=currency_of(purchase))
    code, message = failure_of(purchase)
    return PaymentStatusResult(state=PaymentState.FAILED, provider_payment_id=purchase["id"],
                               amount=amount, currency=currency_of(purchase),
                               failure_code=code, failure_message=message)


def session_of(purchase: dict, *, customer_reference: str) -> CheckoutSession:
    status = purchase.get("status")
    if status in PAID or status in HELD:
        session_status = SessionStatus.COMPLETE
    elif status in CLOSED:
        session_status = SessionStatus.EXPIRED
    else:
        session_status = SessionStatus.OPEN
    code, message = failure_of(purchase) if status == "error" else ("", "")
    return CheckoutSession(
        session_id=purchase["id"],
        redirect_url=purchase.get("checkout_url") or "",
        status=session_status,
        amount=amount_of(purchase),
        currency=currency_of(purchase),
        customer_reference=customer_reference,
        provider_payment_id=purchase["id"] if status in PAID else None,
        payment_method=saved_method_of(purchase) if session_status == SessionStatus.COMPLETE
        else None,
        failure_code=code,
        failure_message=message,
    )


def callback_url(account_id: str | None) -> str:
    """Our webhook endpoint for this account, given to CHIP as each purchase's success_callback."""
    base = f"{settings.PUBLIC_BASE_URL}/gateways/chip/webhook"
    return f"{base}/{account_id}" if account_id else base

"""What a customer does on the sandbox's pages: pay a checkout session with a test card, and
pass (or fail) 3-D Secure. The hosted checkout page and `POST /test/checkouts/{id}/complete`
call `sandbox_checkout_complete`; the sandbox's 3-D Secure page calls `sandbox_authenticate`.

Outcomes that happen here, outside any API call of billing's, are announced the way a real
provider does: a signed webhook (`checkout.completed`, `payment.succeeded|failed`) delivered to
`gateways.services.webhooks.webhook_receive` after commit, so they take the same road as
Stripe's or CHIP's events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.db import transaction

from cynco.clock import wall_now
from cynco.tenancy import Scope
from gateways import registry
from gateways.base import CheckoutSession, GatewayNotFound
from gateways.sandbox import signing
from gateways.sandbox.cards import (
    INVALID_CARD,
    INVALID_CARD_MESSAGE,
    THREE_DS_FAILED_MESSAGE,
    Behaviour,
    card_for,
    failure_of,
)
from gateways.sandbox.gateway import NAME, saved_method_of, session_of
from gateways.sandbox.models import SandboxPayment, SandboxPaymentMethod, SandboxSession
from gateways.services.checkout import payment_method_save

Completion = Literal["completed", "failed", "requires_action"]


@dataclass(frozen=True)
class CheckoutCompletion:
    """The answer to a card entered on a checkout page (API.md: checkout completion)."""

    session_id: str
    status: Completion
    session: CheckoutSession
    payment_method_id: str | None = None  # our saved PaymentMethod, when one was saved
    failure_code: str = ""
    failure_message: str = ""
    action_url: str = ""
    redirect_url: str = ""  # where the page sends the customer next


def _expiry(exp_month: int | None, exp_year: int | None) -> tuple[int, int]:
    return exp_month or 12, exp_year or wall_now().year + 3


def _emit(session_or_payment, event_type: str, data: dict) -> None:
    """Deliver a signed sandbox event to our own webhook endpoint's service, after commit."""
    from gateways.services.webhooks import webhook_receive

    row = session_or_payment
    account_id = row.account_id or None
    gateway = registry.gateway_used(name=NAME, merchant_id=row.merchant_id,
                                    environment=row.environment, account_id=account_id)
    headers, body = signing.signed_event(
        secret=gateway.context.webhook_secret, event_type=event_type,
        merchant_id=row.merchant_id, environment=row.environment, data=data,
    )
    transaction.on_commit(
        lambda: webhook_receive(gateway=NAME, headers=headers, body=body, account_id=account_id)
    )


def _save_for_customer(session: SandboxSession, method: SandboxPaymentMethod) -> str:
    saved = payment_method_save(
        scope=Scope(session.merchant_id, session.environment),
        customer_reference=session.customer_reference, gateway=NAME,
        gateway_account_id=session.account_id or None, method=saved_method_of(method),
    )
    return saved.id


def _complete(session: SandboxSession, payment: SandboxPayment | None,
              method: SandboxPaymentMethod | None) -> CheckoutCompletion:
    """Mark a session paid; save the card for the customer when the session asked to."""
    session.status = SandboxSession.Status.COMPLETE
    session.failure_code = session.failure_message = ""
    session.payment_method = method if session.save_payment_method else None
    session.save()
    saved_id = _save_for_customer(session, method) if session.payment_method else None
    view = session_of(session)
    _emit(session, "checkout.completed", {
        "session": session.id, "payment": payment.id if payment else None,
        "amount": session.amount, "currency": session.currency,
        "paymentMethod": _method_json(view), "metadata": session.metadata,
    })
    return CheckoutCompletion(session_id=session.id, status="completed", session=view,
                              payment_method_id=saved_id, redirect_url=session.success_url)


def _method_json(view: CheckoutSession) -> dict | None:
    method = view.payment_method
    return None if method is None else {
        "token": method.token, "type": method.type, "brand": method.brand, "last4": method.last4,
        "exp_month": method.exp_month, "exp_year": method.exp_year,
    }


def _answer(session: SandboxSession) -> CheckoutCompletion:
    """A session's state as a completion answer (used for repeats and failures)."""
    view = session_of(session)
    status = {"complete": "completed", "requires_action": "requires_action"}.get(
        session.status, "failed"
    )
    return CheckoutCompletion(
        session_id=session.id, status=status, session=view,
        failure_code=session.failure_code, failure_message=session.failure_message,
        action_url=view.action_url,
        redirect_url=session.success_url if status == "completed" else view.action_url,
    )


def sandbox_checkout_complete(*, session_id: str, card_number: str, scope: Scope | None = None,
                              exp_month: int | None = None, exp_year: int | None = None
                              ) -> CheckoutCompletion:
    """Pay (or set up) a sandbox checkout session with a test card, as the customer would.

    One transaction with a row lock on the session (so two submissions of the page pay once);
    saves the card as a PaymentMethod of the session's customer when the session asked to save
    it. A completed session answers `completed` again without charging. With `scope`, the
    session must belong to it (GatewayNotFound otherwise).
    """
    with transaction.atomic():
        sessions = SandboxSession.objects.select_for_update(of=("self",)).select_related("payment")
        if scope is not None:
            sessions = sessions.filter(merchant_id=scope.merchant_id, environment=scope.environment)
        session = sessions.filter(pk=session_id).first()
        if session is None:
            raise GatewayNotFound(f"No sandbox checkout session {session_id}")
        if session.status in (SandboxSession.Status.COMPLETE, SandboxSession.Status.EXPIRED,
                              SandboxSession.Status.REQUIRES_ACTION):
            return _answer(session)
        card = card_for(card_number)
        if card is None:
            session.failure_code, session.failure_message = INVALID_CARD, INVALID_CARD_MESSAGE
            session.save(update_fields=["failure_code", "failure_message"])
            return _answer(session)
        code, message = failure_of(card.at_checkout)
        month, year = _expiry(exp_month, exp_year)
        method = None
        if card.at_checkout != Behaviour.DECLINE:
            method = SandboxPaymentMethod.objects.create(
                merchant_id=session.merchant_id, environment=session.environment,
                account_id=session.account_id, customer_reference=session.customer_reference,
                card_number=card.number, brand=card.brand, exp_month=month, exp_year=year,
            )
        payment = SandboxPayment.objects.create(
            merchant_id=session.merchant_id, environment=session.environment,
            account_id=session.account_id, amount=session.amount, currency=session.currency,
            session=session, payment_method=method, card_number=card.number,
            status={Behaviour.SUCCEED: "succeeded", Behaviour.DECLINE: "failed",
                    Behaviour.AUTHENTICATE: "requires_action"}[card.at_checkout],
            failure_code=code if card.at_checkout == Behaviour.DECLINE else "",
            failure_message=message if card.at_checkout == Behaviour.DECLINE else "",
            metadata=session.metadata,
        )
        session.payment = payment
        if card.at_checkout == Behaviour.SUCCEED:
            return _complete(session, payment, method)
        session.failure_code, session.failure_message = code, message
        if card.at_checkout == Behaviour.AUTHENTICATE:
            session.status = SandboxSession.Status.REQUIRES_ACTION
        session.save()
        return _answer(session)


@dataclass(frozen=True)
class AuthenticationOutcome:
    payment_id: str
    status: str  # the payment's: succeeded or failed
    redirect_url: str  # the session's success URL, its checkout page again, or ""
    checkout: CheckoutCompletion | None = None


def sandbox_authenticate(*, payment_id: str, approve: bool) -> AuthenticationOutcome:
    """The customer passes (or fails) 3-D Secure for a sandbox payment awaiting it.

    One transaction with row locks on the payment and its session. For a checkout, passing
    completes the session (saving the card when asked); failing returns the session to `open`
    with the failure shown. For an off-session charge it announces `payment.succeeded` or
    `payment.failed` by webhook. Asking again after the fact answers the same outcome.
    """
    with transaction.atomic():
        payment = SandboxPayment.objects.select_for_update().filter(pk=payment_id).first()
        if payment is None:
            raise GatewayNotFound(f"No sandbox payment {payment_id}")
        session = (
            SandboxSession.objects.select_for_update().get(pk=payment.session_id)
            if payment.session_id else None
        )
        if payment.status != SandboxPayment.Status.REQUIRES_ACTION:
            return _authentication_answer(payment, session)
        if approve:
            payment.status = SandboxPayment.Status.SUCCEEDED
        else:
            payment.status = SandboxPayment.Status.FAILED
            payment.failure_code, payment.failure_message = failure_of(Behaviour.DECLINE)[0], \
                THREE_DS_FAILED_MESSAGE
        payment.save()
        if session is None:
            _emit(payment, f"payment.{payment.status}", {
                "payment": payment.id, "amount": payment.amount, "currency": payment.currency,
                "failureCode": payment.failure_code, "failureMessage": payment.failure_message,
                "metadata": payment.metadata,
            })
            return _authentication_answer(payment, None)
        if approve:
            checkout = _complete(session, payment, payment.payment_method)
            return AuthenticationOutcome(payment.id, payment.status, checkout.redirect_url,
                                         checkout)
        session.status = SandboxSession.Status.OPEN
        session.failure_code, session.failure_message = payment.failure_code, \
            payment.failure_message
        session.save()
        return _authentication_answer(payment, session)


def _authentication_answer(payment: SandboxPayment, session: SandboxSession | None
                           ) -> AuthenticationOutcome:
    if session is None:
        return AuthenticationOutcome(payment.id, payment.status, "")
    checkout = _answer(session)
    redirect = session.success_url if checkout.status == "completed" else checkout.session.redirect_url
    return AuthenticationOutcome(payment.id, payment.status, redirect, checkout)


def pending_authentication(payment_id: str) -> SandboxPayment:
    """A sandbox payment for the 3-D Secure page to show (GatewayNotFound when unknown)."""
    payment = SandboxPayment.objects.filter(pk=payment_id).first()
    if payment is None:
        raise GatewayNotFound(f"No sandbox payment {payment_id}")
    return payment


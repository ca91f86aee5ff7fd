"""Customer-facing pages: the hosted checkout page and the printable invoice page.

The checkout pages live at the URLs the gateways give their sessions (SANDBOX_CHECKOUT_URL,
`/checkout/sandbox/<session id>`, and STRIPE_CHECKOUT_URL, `/checkout/stripe/<intent id>`:
unguessable ids); the invoice page at a signed link (`hostedUrl` of an Invoice). All are thin:
billing's services do the work.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from billing.models import Checkout, Invoice
from billing.selectors.invoice_identity import identity_of
from cynco.money import format_money
from billing.services.checkouts import CheckoutResult, checkout_pay_with_card
from billing.services.hosted_checkout import checkout_confirm, checkout_refresh
from cynco.models import Merchant
from cynco.links import LinkExpired, LinkInvalid, read_token
from cynco.tenancy import Scope
from gateways.base import GatewayError, GatewayRejected
from gateways.services.checkout import checkout_session_client_secret
from gateways.services.recovery import attempt_refresh_after_action


STRIPE_INTENTS = ("pi_", "seti_")  # a Stripe session is a PaymentIntent or a SetupIntent


def _problem(request, heading, explanation, status):
    return render(request, "portal/link_problem.html",
                  {"heading": heading, "explanation": explanation}, status=status)


@require_http_methods(["GET", "POST"])
def sandbox_checkout(request, session_id: str):
    """A card form for one checkout: pays it, shows a decline, sends 3-D Secure cards to the
    issuer's page, and returns the customer to the merchant's success or cancel URL.

    The issuer's page sends a failed 3-D Secure check back here (GET): the checkout still
    waits for it, so the page reads the session again and shows why the payment failed (or
    goes on to the success URL if the check passed after all). The last failure stays shown
    until another card is tried."""
    checkout = Checkout.objects.select_related("customer").filter(
        gateway_session_id=session_id).first()
    if checkout is None:
        return _problem(request, "Checkout not found",
                        "This checkout link is not valid. Go back and try again.", 404)
    scope = Scope(checkout.merchant_id, checkout.environment)
    if request.method == "POST" and checkout.status != Checkout.Status.COMPLETED:
        result = checkout_pay_with_card(scope=scope, checkout=checkout,
                                        card_number=request.POST.get("card", ""))
    elif checkout.status == Checkout.Status.REQUIRES_ACTION:
        result = checkout_refresh(scope=scope, checkout=checkout)
    else:
        result = None
    if result is not None:
        if result.status == "requires_action" and result.action_url and request.method == "POST":
            return HttpResponseRedirect(result.action_url)
        if result.status == "completed" and checkout.success_url:
            return HttpResponseRedirect(checkout.success_url)
        checkout.refresh_from_db()
    error = checkout.failure_message if checkout.status == Checkout.Status.FAILED else ""
    if result is not None and result.status == "failed":
        error = result.failure_message  # also a canceled checkout's, which keeps its status
    return render(request, "portal/checkout.html", {
        "checkout": checkout, "error": error,
        "merchant_name": Merchant.objects.get(pk=checkout.merchant_id).name,
        "amount": format_money(checkout.amount, checkout.currency),
        "completed": checkout.status == Checkout.Status.COMPLETED,
    })


def invoice_page(request, token: str):
    """The invoice behind a signed link, printable."""
    try:
        target = read_token("invoice", token)
    except LinkExpired:
        return _problem(request, "Link expired", "Ask the merchant for a new invoice link.", 410)
    except LinkInvalid:
        return _problem(request, "Invalid link", "This invoice link is not valid.", 404)
    invoice = Invoice.objects.filter(pk=target.object_id, merchant_id=target.merchant_id,
                                     environment=target.environment).first()
    if invoice is None:
        return _problem(request, "Invoice not found", "This invoice no longer exists.", 404)
    money = lambda amount: format_money(amount, invoice.currency)  # noqa: E731
    identity = identity_of(Merchant.objects.get(pk=invoice.merchant_id))
    return render(request, "portal/invoice.html", {
        "invoice": invoice, "token": token, "merchant_name": identity.name, "identity": identity,
        "lines": [(line, money(line.amount)) for line in invoice.lines.all()],
        "subtotal": money(invoice.subtotal), "tax": money(invoice.tax_amount),
        "total": money(invoice.total), "due": money(invoice.amount_due),
    })


@require_http_methods(["GET", "POST"])
def stripe_checkout(request, session_id: str):
    """Our page for a Stripe session (STRIPE_CHECKOUT_URL): Stripe.js turns the card into a
    payment method in the browser and posts its id; we confirm the intent, show a decline, let
    Stripe.js run 3-D Secure, and return the customer to the merchant's success URL. Opening the
    page again after 3-D Secure reads the intent and finishes the checkout.

    A card needing 3-D Secure is answered with a redirect to this page (post/redirect/get):
    Stripe.js reloads the page after the bank's check, and reloading the answer to the POST
    would send the same payment method again and ask for the same check again, for ever."""
    checkout = Checkout.objects.select_related("customer").filter(
        gateway_session_id=session_id).first()
    if checkout is None and session_id.startswith("pi_"):
        return _stripe_authentication(request, session_id)
    if checkout is None or not session_id.startswith(STRIPE_INTENTS):
        return _problem(request, "Checkout not found",
                        "This checkout link is not valid. Go back and try again.", 404)
    scope = Scope(checkout.merchant_id, checkout.environment)
    try:
        if request.method == "POST" and request.POST.get("payment_method"):
            result = checkout_confirm(scope=scope, checkout=checkout,
                                      payment_method=request.POST["payment_method"])
        else:
            result = checkout_refresh(scope=scope, checkout=checkout)
    except GatewayRejected as refusal:
        result = CheckoutResult(checkout, "failed", refusal.code, str(refusal))
    except GatewayError:  # Stripe unreachable: nothing happened that we know of
        result = CheckoutResult(checkout, "failed", "gateway_unavailable",
                                "The payment service is not answering. Try again in a moment.")
    if result.status == "completed" and checkout.success_url:
        return HttpResponseRedirect(checkout.success_url)
    needs_action = result.status == "requires_action"
    if needs_action and request.method == "POST":
        return HttpResponseRedirect(request.path)
    return render(request, "portal/stripe_checkout.html", {
        "checkout": result.checkout, "merchant_name": Merchant.objects.get(
            pk=checkout.merchant_id).name,
        "amount": format_money(checkout.amount, checkout.currency),
        "completed": result.status == "completed",
        "error": result.failure_message if result.status == "failed" else "",
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "stripe_js_url": settings.STRIPE_JS_URL,
        "client_secret": checkout_session_client_secret(scope=scope, session_id=session_id)
        if needs_action else "",
        "needs_action": needs_action,
    })


def _stripe_authentication(request, payment_id: str):
    """3-D Secure for an off-session charge (a renewal, a dunning retry): the charge's action
    URL is this page. Stripe.js runs the bank's check and reloads; each visit asks Stripe how
    the payment stands and settles it, so billing marks the invoice paid at once."""
    try:
        result = attempt_refresh_after_action(gateway="stripe", provider_payment_id=payment_id)
    except GatewayError:
        result = None
    if result is None:
        return _problem(request, "Payment not found",
                        "This payment link is not valid, or the payment service is not "
                        "answering. Try again in a moment.", 404)
    scope = Scope(result.merchant_id, result.environment)
    needs_action = result.status == "requires_action"
    return render(request, "portal/stripe_authenticate.html", {
        "merchant_name": Merchant.objects.get(pk=result.merchant_id).name,
        "amount": format_money(result.amount, result.currency), "result": result,
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "stripe_js_url": settings.STRIPE_JS_URL, "needs_action": needs_action,
        "client_secret": checkout_session_client_secret(scope=scope, session_id=payment_id)
        if needs_action else "",
    })

"""The sandbox's own 3-D Secure page (what a card issuer shows), server-rendered."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from cynco.money import format_money
from gateways.base import GatewayNotFound
from gateways.sandbox.checkout import pending_authentication, sandbox_authenticate


@require_http_methods(["GET", "POST"])
def authenticate(request, payment_id: str):
    """GET shows the challenge; POST `decision=approve|decline` answers it, then goes back to
    the checkout (success URL, or the checkout page with the failure) or shows the result."""
    try:
        payment = pending_authentication(payment_id)
    except GatewayNotFound as exc:
        raise Http404(str(exc)) from exc
    if request.method == "POST":
        outcome = sandbox_authenticate(
            payment_id=payment_id, approve=request.POST.get("decision") == "approve"
        )
        if outcome.redirect_url:
            return redirect(outcome.redirect_url)
        payment = pending_authentication(payment_id)
    return render(request, "gateways/sandbox/authenticate.html", {
        "payment": payment, "amount": format_money(payment.amount, payment.currency)})

"""The customer's billing portal, opened through a signed link (GET /api/v1/pay/portal)."""

from __future__ import annotations

from django.shortcuts import render

from billing.models import Customer
from billing.selectors.customers import customer_holdings
from cynco import clock
from cynco.links import LinkExpired, LinkInvalid, read_token
from cynco.models import Merchant
from cynco.tenancy import Scope


def link_problem(request, *, expired: bool):
    if expired:
        heading = "This link has expired"
        explanation = (
            "Billing portal links are valid for one hour. Go back to the app you came from "
            "and open the billing page again for a fresh link."
        )
    else:
        heading = "This link is not valid"
        explanation = "Check that you copied the whole link, or ask for a new one."
    return render(
        request, "portal/link_problem.html",
        {"heading": heading, "explanation": explanation}, status=410 if expired else 404,
    )


def portal_home(request, token: str):
    """The customer's plan, usage and invoices, or a clear page when the link is bad."""
    try:
        target = read_token("portal", token)
    except LinkExpired:
        return link_problem(request, expired=True)
    except LinkInvalid:
        return link_problem(request, expired=False)
    scope = Scope(target.merchant_id, target.environment)
    customer = Customer.objects.for_scope(scope).active().filter(pk=target.object_id).first()
    if customer is None:
        return link_problem(request, expired=False)
    held = customer_holdings([customer], clock.now(scope))[customer.id]
    return render(
        request,
        "portal/home.html",
        {
            "merchant_name": Merchant.objects.get(pk=scope.merchant_id).name,
            "customer": customer,
            "subscriptions": held.subscriptions,
            "balances": sorted(held.balances.items()),
            "included": sorted(
                slug for slug, on in held.flags.items() if on and slug not in held.balances
            ),
            "invoices": portal_invoices(customer),
        },
    )


def portal_invoices(customer) -> list:
    """The customer's invoices, newest first (none until invoicing exists)."""
    return []

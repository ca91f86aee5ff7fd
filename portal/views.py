"""The customer's billing portal, opened through a signed link (GET /api/v1/pay/portal).

The page shows the customer's plans, usage, saved cards and invoices. What a customer may change
here is deliberately small (docs/portal.md): set a paid plan to cancel at the end of its period,
or undo that. Both are POST forms protected by the signed link (it names the customer and
expires after an hour) and Django's CSRF token, and call the same service as the API.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from billing.models import Customer, Subscription
from cynco.money import format_money
from billing.selectors.customers import customer_holdings
from billing.selectors.credit_notes import credit_notes_list
from billing.selectors.subscriptions import invoice_hosted_url, invoices_list
from billing.services.audit import SYSTEM
from billing.services.subscription_updates import UpdateRequest, subscription_update
from billing.services.subscriptions import price_amount
from cynco import clock
from cynco.errors import ApiError
from cynco.links import LinkExpired, LinkInvalid, read_token
from cynco.models import Merchant
from cynco.tenancy import Scope
from gateways.selectors import payment_methods_of

# What the portal's forms may ask for, and the cancelAction each one is.
CUSTOMER_ACTIONS = {"cancel": "cancel_end_of_cycle", "resume": "uncancel"}
# A customer may cancel (or resume) a paid, recurring plan in one of these statuses.
CHANGEABLE = (Subscription.Status.ACTIVE, Subscription.Status.TRIALING,
              Subscription.Status.PAST_DUE)


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


def portal_link(view):
    """Open the portal token of the URL: the view gets the scope and the customer it names, or
    the customer gets a page saying the link expired (410) or is not valid (404)."""

    @wraps(view)
    def opened(request, token: str, **kwargs):
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
        return view(request, token, scope=scope, customer=customer, **kwargs)

    return opened


@portal_link
def portal_home(request, token: str, *, scope: Scope, customer: Customer):
    """The customer's plan, usage, cards and invoices, or a clear page when the link is bad."""
    held = customer_holdings([customer], clock.now(scope))[customer.id]
    return render(
        request,
        "portal/home.html",
        {
            "merchant_name": Merchant.objects.get(pk=scope.merchant_id).name,
            "customer": customer,
            "token": token,
            "subscriptions": [(s, changeable(s)) for s in held.subscriptions],
            "balances": sorted(held.balances.items()),
            "included": sorted(
                slug for slug, on in held.flags.items() if on and slug not in held.balances
            ),
            "payment_methods": payment_methods_of(scope=scope, customer_reference=customer.id),
            "invoices": portal_invoices(customer),
        },
    )


def changeable(subscription: Subscription) -> bool:
    """Whether the customer may cancel or resume this plan here: a paid recurring plan with a
    period end (not a free or default plan, a purchase, or a checkout in progress)."""
    return (subscription.status in CHANGEABLE and subscription.current_period_end is not None
            and not subscription.product.is_default
            and price_amount(subscription.price, subscription.quantity) > 0)


@require_POST
@portal_link
def portal_subscription_change(request, token: str, *, scope: Scope, customer: Customer,
                               subscription_id: str):
    """Cancel one of the customer's plans at the end of its period, or undo that (`action`
    cancel|resume). Another customer's subscription is 404; an expired link 410."""
    subscription = customer.subscriptions.select_related("product").filter(
        pk=subscription_id).first()
    cancel_action = CUSTOMER_ACTIONS.get(request.POST.get("action", ""))
    if subscription is None or cancel_action is None or not changeable(subscription):
        return link_problem(request, expired=False)
    try:
        subscription_update(scope=scope, customer=customer, product=subscription.product,
                            request=UpdateRequest(cancel_action=cancel_action),
                            at=clock.now(scope), actor=SYSTEM)
    except ApiError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, f"{subscription.product.name} will end at the end of the "
                         "current period." if cancel_action == "cancel_end_of_cycle"
                         else f"{subscription.product.name} will renew as usual.")
    return HttpResponseRedirect(reverse("portal-home", args=[token]))


def portal_invoices(customer) -> list[dict]:
    """The customer's invoices and credit notes, newest first: number, date, status, formatted
    total (a credit note's negative: money or credit back, tax included) and the link to the
    printable page of the invoice (for a credit note, of the invoice it credits)."""
    scope = Scope(customer.merchant_id, customer.environment)
    rows = [
        {"number": invoice.number or invoice.id, "date": invoice.created_at,
         "status": invoice.get_status_display(),
         "total": format_money(invoice.total, invoice.currency),
         "url": invoice_hosted_url(invoice)}
        for invoice in invoices_list(scope, customer).exclude(status="draft")
    ]
    rows += [
        {"number": note.number, "date": note.created_at,
         "status": f"Credit note ({note.get_type_display().lower()}) for "
                   f"{note.invoice.number or note.invoice_id}",
         "total": format_money(-note.total, note.currency),
         "url": invoice_hosted_url(note.invoice)}
        for note in credit_notes_list(scope, customer)
    ]
    return sorted(rows, key=lambda row: row["date"], reverse=True)

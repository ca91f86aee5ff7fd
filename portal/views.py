"""The customer's billing portal, opened through a signed link (GET /api/v1/pay/portal).

The page shows the customer's plans, usage (as bars, with the reset date), saved cards and
invoices. What a customer may change here (docs/portal.md): set a paid plan to cancel at the end
of its period (with an optional reason), undo that, resume a paused plan, and change plan
(portal.plan_change). Each is a POST form protected by the signed link (it names the customer
and expires after an hour) and Django's CSRF token, and calls the same service as the API.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from billing.models import Balance, Customer, Subscription
from billing.selectors.customers import customer_holdings
from billing.selectors.credit_notes import credit_notes_list
from billing.selectors.subscriptions import invoice_hosted_url, invoices_list
from billing.services.audit import SYSTEM, audit_record
from billing.services.subscription_cancel import cancel_customer
from billing.services.subscription_updates import UpdateRequest, subscription_update
from billing.services.subscriptions import price_amount
from cynco import clock
from cynco.errors import ApiError
from cynco.links import LinkExpired, LinkInvalid, read_token
from cynco.models import Merchant
from cynco.money import format_money
from cynco.tenancy import Scope
from gateways.selectors import payment_methods_of

# What the portal's forms may ask for, as the API's update request each one is ("cancel" goes
# through cancel_customer, which keeps the customer's reason).
CUSTOMER_ACTIONS = {"cancel": UpdateRequest(cancel_action="cancel_end_of_cycle"),
                    "resume": UpdateRequest(cancel_action="uncancel"),
                    "unpause": UpdateRequest(pause_action="resume")}
# A customer may cancel (or resume) a paid, recurring plan in one of these statuses.
CHANGEABLE = (Subscription.Status.ACTIVE, Subscription.Status.TRIALING,
              Subscription.Status.PAST_DUE, Subscription.Status.PAUSED)
REASON_LENGTH = 200  # what a refund's and a cancel's reason column holds


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
    at = clock.now(scope)
    held = customer_holdings([customer], at)[customer.id]
    return render(
        request,
        "portal/home.html",
        {
            "merchant_name": Merchant.objects.get(pk=scope.merchant_id).name,
            "customer": customer,
            "token": token,
            "subscriptions": [(s, changeable(s)) for s in held.subscriptions],
            **usage_of(customer, held, at),
            "payment_methods": payment_methods_of(scope=scope, customer_reference=customer.id),
            "invoices": portal_invoices(customer),
        },
    )


def usage_of(customer: Customer, held, at) -> dict:
    """The usage card: per metered feature its name, used / granted as a bar (percent), and
    when it resets; and the names of the included (on/off) features."""
    rows = {row.feature.slug: row for row in Balance.objects.filter(
        customer=customer, entity_key="").select_related("feature")}
    usage = []
    for slug, balance in sorted(held.balances.items()):
        row = rows[slug]
        granted = balance.granted or 0
        percent = 0 if balance.unlimited or not granted else min(
            100, round(balance.usage * 100 / granted))
        resets = row.period_end if row.period_end and row.period_end > at else None
        usage.append({"name": row.feature.name or slug, "balance": balance, "percent": percent,
                      "resets": resets, "over": not balance.unlimited and balance.usage > granted})
    included = sorted(rows[slug].feature.name or slug if slug in rows else slug
                      for slug, on in held.flags.items() if on and slug not in held.balances)
    return {"usage": usage, "included": included}


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
    """Cancel one of the customer's plans at the end of its period (with an optional
    `reason`), undo that, or resume a paused plan (`action` cancel|resume|unpause). Another
    customer's subscription is 404; an expired link 410."""
    subscription = customer.subscriptions.select_related("product").filter(
        pk=subscription_id).first()
    action = request.POST.get("action", "")
    if subscription is None or action not in CUSTOMER_ACTIONS or not changeable(subscription):
        return link_problem(request, expired=False)
    name = subscription.product.name
    try:
        if action == "cancel":
            reason = request.POST.get("reason", "").strip()[:REASON_LENGTH]
            with transaction.atomic():
                cancel_customer(scope=scope, customer=customer, product=subscription.product,
                                immediate=False, reason=reason, at=clock.now(scope),
                                actor=SYSTEM)
                if reason:  # cancel_customer keeps a reason only on an immediate cancel
                    audit_record(scope=scope, event="portal.cancel_reason", actor=SYSTEM,
                                 customer_id=customer.id, subscription_id=subscription.pk,
                                 details={"reason": reason})
        else:
            subscription_update(scope=scope, customer=customer, product=subscription.product,
                                request=CUSTOMER_ACTIONS[action], at=clock.now(scope),
                                actor=SYSTEM)
    except ApiError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, {
            "cancel": f"{name} will end at the end of the current period.",
            "resume": f"{name} will renew as usual.",
            "unpause": f"{name} is active again.",
        }[action])
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

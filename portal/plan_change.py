"""Changing plan from the portal: the plans of the customer's group with their prices, then the
exact preview of API.md's POST /preview (an upgrade is charged now, prorated; a downgrade waits
for the period's end), then, on confirmation, the same subscribe service as the API."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from billing.models import Customer, Product, Subscription
from billing.selectors.subscriptions import subscribe_preview
from billing.services.audit import SYSTEM
from billing.services.subscribe import SubscribeRequest
from billing.services.subscribe_payment import subscribe_and_pay
from cynco import clock
from cynco.errors import ApiError
from cynco.models import Merchant
from cynco.money import format_money
from cynco.tenancy import Scope
from portal.views import link_problem, portal_link

HELD = (Subscription.Status.ACTIVE, Subscription.Status.TRIALING, Subscription.Status.PAST_DUE)


def current_plan(customer: Customer) -> Subscription | None:
    """The customer's current plan (not an add-on) that a plan change replaces."""
    return (customer.subscriptions.filter(status__in=HELD, product__is_add_on=False)
            .select_related("product", "price").order_by("-created_at").first())


def group_plans(scope: Scope, held: Subscription) -> list[dict]:
    """The active plans of `held`'s group, in the pricing table's order, each with its current
    price (the latest version's first) formatted by cynco.money."""
    products = (Product.objects.for_scope(scope)
                .filter(group_slug=held.product.group_slug, is_add_on=False,
                        status=Product.Status.ACTIVE)
                .select_related("latest_version").prefetch_related("prices")
                .order_by("sort_order", "name"))
    plans = []
    for product in products:
        prices = sorted((p for p in product.prices.all()
                         if p.version_id == product.latest_version_id), key=lambda p: p.position)
        price = prices[0] if prices else None
        plans.append({
            "product": product, "current": product.pk == held.product_id,
            "price": format_money(price.amount, price.currency) if price else "",
            "interval": price.billing_interval if price else "",
        })
    return plans


@portal_link
def portal_plans(request, token: str, *, scope: Scope, customer: Customer):
    held = current_plan(customer)
    if held is None:
        return link_problem(request, expired=False)
    return render(request, "portal/plans.html", {
        "merchant_name": Merchant.objects.get(pk=scope.merchant_id).name, "token": token,
        "customer": customer, "held": held, "plans": group_plans(scope, held),
    })


@portal_link
def portal_plan_preview(request, token: str, *, scope: Scope, customer: Customer, slug: str):
    """GET: what changing to `slug` does, exactly as POST /preview answers it. POST: do it."""
    held = current_plan(customer)
    product = Product.objects.for_scope(scope).filter(
        slug=slug, status=Product.Status.ACTIVE, is_add_on=False).first()
    if held is None or product is None or product.group_slug != held.product.group_slug \
            or product.pk == held.product_id:
        return link_problem(request, expired=False)
    home = reverse("portal-home", args=[token])
    if request.method == "POST":
        try:
            outcome = subscribe_and_pay(scope=scope, customer=customer,
                                        request=SubscribeRequest(product=product),
                                        at=clock.now(scope), actor=SYSTEM)
        except ApiError as refusal:
            messages.error(request, refusal.message)
            return HttpResponseRedirect(home)
        if outcome.action == "checkout" and (outcome.url or outcome.checkout):
            return HttpResponseRedirect(outcome.url or outcome.checkout.url)
        messages.success(request, f"Your plan is now {product.name}." if outcome.action ==
                         "activated" else f"You will move to {product.name} at the end of "
                         "the current period.")
        return HttpResponseRedirect(home)
    preview = subscribe_preview(scope, customer, product, None, 1, clock.now(scope))
    price = product.prices.filter(version_id=product.latest_version_id).order_by(
        "position").first()
    currency = price.currency if price else held.price.currency
    return render(request, "portal/plan_preview.html", {
        "merchant_name": Merchant.objects.get(pk=scope.merchant_id).name, "token": token,
        "customer": customer, "held": held, "product": product, "preview": preview,
        "lines": [{**line, "money": format_money(line["amount"], currency)}
                  for line in preview["lineItems"]],
        "amount_due": format_money(preview["amountDue"], currency),
        "period_end": held.current_period_end,
    })

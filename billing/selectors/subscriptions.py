"""Reads of subscriptions and invoices, and what subscribing would cost (`/preview`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet

from billing.models import Invoice, Product, Subscription
from billing.selectors.plans import plans_eligibility
from billing.services.coupons import CouponNotApplicable, coupon_validate
from billing.services.invoices import LineDraft
from billing.services.refunds import unused_refund
from billing.services.subscribe import Charge, amount_due_of, charge_for, resolve_price
from billing.services.subscriptions import first_paid_period, price_amount
from cynco.errors import NotFound
from cynco.links import LinkTarget, absolute_url, make_token
from cynco.tenancy import Scope


def subscriptions_list(scope: Scope, statuses: list[str] | None) -> QuerySet[Subscription]:
    """The scope's subscriptions (every status unless `statuses`), newest first."""
    rows = Subscription.objects.for_scope(scope).select_related("product").order_by(
        "-created_at", "-id")
    return rows.filter(status__in=statuses) if statuses else rows


def invoices_list(scope: Scope, customer=None, statuses: list[str] | None = None
                  ) -> QuerySet[Invoice]:
    rows = Invoice.objects.for_scope(scope).prefetch_related("lines").order_by(
        "-created_at", "-id")
    if customer is not None:
        rows = rows.filter(customer=customer)
    return rows.filter(status__in=statuses) if statuses else rows


def invoice_hosted_url(invoice: Invoice) -> str:
    """The invoice's printable page, behind a signed link (a year): `hostedUrl`."""
    token = make_token(LinkTarget("invoice", invoice.id, invoice.merchant_id,
                                  invoice.environment))
    return absolute_url(f"/invoices/{token}")


def invoice_find(scope: Scope, invoice_id: str) -> Invoice:
    invoice = invoices_list(scope).filter(pk=invoice_id).first()
    if invoice is None:
        raise NotFound(f"No invoice '{invoice_id}'")
    return invoice


def subscribe_preview(scope: Scope, customer, product: Product, price_id: str | None,
                      quantity: int, at: datetime, coupon_code: str | None = None) -> dict:
    """PreviewResult of API.md: what subscribing now would do, priced exactly as subscribe
    prices it (billing.services.subscribe.charge_for), with no side effects. With
    `coupon_code`: its `discount` line and `discountAmount` (coupon_validate; a code that would
    not apply is the same 422 on couponCode as subscribe's)."""
    eligibility = plans_eligibility(customer, [product], at)[product.id]
    held = None
    if eligibility.current_subscription_id:
        held = Subscription.objects.select_related("product", "price").get(
            pk=eligibility.current_subscription_id)
    price = resolve_price(product, price_id, held)
    scenario = eligibility.scenario
    result = {"scenario": scenario, "amountDue": 0, "total": 0, "lineItems": [],
              "proration": None, "trial": None,
              "currentPlan": held.product.slug if held else None, "targetPlan": product.slug}
    if scenario not in ("new", "upgrade"):
        return result
    from_free = held is None or not price_amount(held.price, held.quantity)
    if from_free and price is not None and price.trial_days and eligibility.trial_available:
        trial_end = at + timedelta(days=price.trial_days)
        start, end = first_paid_period(price, at, trial_end, None)
        result["trial"] = {"trialDays": price.trial_days, "trialEnd": trial_end,
                           "firstPeriodStart": start, "firstPeriodEnd": end}
        then = f", then {start:%d %b %Y} – {end:%d %b %Y}" if end else ""
        result["lineItems"] = [{"title": product.name,
                                "description": f"Free for {price.trial_days} days{then}",
                                "amount": 0}]
        return result
    first = not customer.subscriptions.filter(product=product).exclude(
        status=Subscription.Status.CHECKOUT).exists()
    charge = charge_for(product=product, price=price, quantity=quantity, held=held, at=at,
                        anchor_day=None, first=first)
    if coupon_code:
        quote = coupon_validate(scope=scope, code=coupon_code, customer=customer,
                                product=product, amount=price_amount(price, quantity), at=at)
        if not quote.valid:
            raise CouponNotApplicable(quote.reason, quote.message)
        result["discountAmount"] = quote.discount_amount
        if quote.discount_amount:
            lines = (*charge.lines, LineDraft("discount", f"Discount ({quote.coupon.code})",
                                              -quote.discount_amount))
            charge = Charge(lines, amount_due_of(lines), charge.credit, charge.period_end)
    result["lineItems"] = [
        {"title": line.description, "description": _line_description(line),
         "amount": line.amount} for line in charge.lines
    ]
    result["total"] = sum(line.amount for line in charge.lines)
    result["amountDue"] = charge.amount_due
    if held is not None:
        result["proration"] = {"creditAmount": charge.credit,
                               "chargeAmount": price_amount(price, quantity)}
        if held.price is not None and price is not None and held.price.currency != price.currency:
            # Never credited across currencies: the unused part is refunded in its own.
            result["proration"].update(refundAmount=unused_refund(held, at),
                                       refundCurrency=held.price.currency)
    return result


def _line_description(line) -> str:
    if line.period_start and line.period_end:
        return f"{line.period_start:%d %b %Y} – {line.period_end:%d %b %Y}"
    return {"setup_fee": "One-time setup fee", "proration": "Unused time on the current plan",
            "one_off": "One-time purchase"}.get(line.type, "")

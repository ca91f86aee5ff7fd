"""`/multi-attach`: several products bought at once, all or nothing, paid with one checkout
(or one saved-card charge) for the total and written on one invoice.

Every product must be new to the customer: nothing current in its group, or only a free plan
there (which the paid product replaces, as an upgrade from free would). Recurring prices only,
in one currency; trials are not offered (the first periods are charged now); no two products
of one group. Anything else is a 422 naming `products[i].…`, and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from django.db import transaction

from billing.models import Checkout, Invoice, Product, Subscription
from billing.selectors.plans import plans_eligibility
from billing.services.audit import Actor
from billing.services.coupons import coupon_validate
from billing.services.invoices import LineDraft, invoice_issue
from billing.services.subscribe import (
    Charge,
    Redeemed,
    SubscribeOutcome,
    SubscribeRequest,
    amount_due_of,
    charge_for,
    coupon_apply,
    discount_of,
    line_json,
    redemption_link,
    resolve_price,
)
from billing.services.subscriptions import (
    announce,
    is_recurring,
    price_amount,
    subscription_end,
    subscription_start,
)
from cynco.errors import NotFound, ValidationFailed
from cynco.locks import lock_customer
from cynco.tenancy import Scope

Status = Subscription.Status


@dataclass(frozen=True)
class AttachItem:
    product: Product | None  # None: no such product (422 on products[i].product)
    price_id: str | None = None
    quantity: int = 1


@dataclass(frozen=True)
class _Planned:
    product: Product
    price: object
    quantity: int
    replaces: Subscription | None


def multi_attach(*, scope: Scope, customer, items: list[AttachItem], success_url: str,
                 cancel_url: str, coupon_code: str | None, metadata: dict, at: datetime,
                 actor: Actor) -> SubscribeOutcome:
    """Subscribe `customer` to every item now (activated: nothing due) or behind one checkout
    for the total. Takes lock_customer(customer.id) first; one transaction, so a refusal (any
    item invalid, a coupon that does not apply) writes nothing. `couponCode` is redeemed once,
    on the total of the first product it is valid for, and discounts that subscription's
    renewals. Emits subscription.* events; the invoice posts invoice_finalized."""
    with transaction.atomic():
        lock_customer(customer.id)
        planned = _plan(customer, items, at)
        lines, owners = [], []  # owners: the index of the planned item each line bills
        for index, item in enumerate(planned):
            first = not Subscription.objects.filter(customer=customer, product=item.product
                                                    ).exclude(status=Status.CHECKOUT).exists()
            item_lines = charge_for(product=item.product, price=item.price,
                                    quantity=item.quantity, held=None, at=at,
                                    anchor_day=None, first=first).lines
            lines.extend(item_lines)
            owners.extend([index] * len(item_lines))
        charge = Charge(tuple(lines), amount_due_of(lines), 0, None)
        charge, redeemed, coupon_item = _coupon(scope, customer, planned, coupon_code, charge,
                                                at, actor)
        request = SubscribeRequest(product=planned[0].product, coupon_code=coupon_code,
                                   metadata=metadata)
        currency = planned[0].price.currency
        checkout = None
        if charge.amount_due:
            checkout = Checkout.objects.create(
                merchant_id=scope.merchant_id, environment=scope.environment,
                customer=customer, mode=Checkout.Mode.PAYMENT, amount=charge.amount_due,
                currency=currency, created_at=at, success_url=success_url,
                cancel_url=cancel_url,
                description=", ".join(item.product.name for item in planned)[:500],
                plan={"replacesByProduct": {item.product.id: item.replaces.id
                                            for item in planned if item.replaces},
                      "trialDays": 0, "redemptionId": redeemed.redemption_id,
                      "lines": [line_json(line) for line in charge.lines]},
            )
        started = [_start(scope, customer, item, checkout, metadata, at) for item in planned]
        for item, subscription in zip(planned, started):
            if item is coupon_item:
                redemption_link(redeemed, subscription)
        discounted = planned.index(coupon_item) if coupon_item is not None else 0
        billed = _attributed(charge.lines, owners, started, discounted)
        if checkout is not None:
            checkout.plan["lines"] = [line_json(line) for line in billed]
            checkout.save(update_fields=["plan"])
        if checkout is None and any(line.amount for line in billed):
            invoice_issue(scope=scope, customer=customer, subscription=started[0],
                          reason=Invoice.Reason.SUBSCRIPTION_CREATE, currency=currency,
                          lines=billed, at=at, period_start=at,
                          period_end=started[0].current_period_end)
        for item, subscription in zip(planned, started):
            events = ["subscription.created"]
            if checkout is None:
                events.append("subscription.activated")
                if item.replaces is not None:
                    events.append("subscription.upgraded")
            announce(scope=scope, subscription=subscription, events=events, actor=actor,
                     details={"multiAttach": [i.product.slug for i in planned],
                              **({"checkoutId": checkout.id} if checkout else {})})
        discount = discount_of(request, redeemed)
        if checkout is not None:
            return SubscribeOutcome("checkout", started[0], checkout, discount_amount=discount)
        return SubscribeOutcome("activated", started[0], discount_amount=discount)


def _attributed(lines, owners: list[int], started: list[Subscription],
                discounted: int) -> list[LineDraft]:
    """The combined invoice's lines, each naming the subscription it bills (`owners` gives
    the item of each priced line; the lines after them — the coupon's discount — go to the
    `discounted` item's), so a refund of one subscription takes only its share."""
    items = [*owners, *[discounted] * (len(lines) - len(owners))]
    return [replace(line, subscription_id=started[item].id) for line, item in zip(lines, items)]


def _start(scope, customer, item: _Planned, checkout, metadata, at) -> Subscription:
    if checkout is not None:
        return Subscription.objects.create(
            merchant_id=scope.merchant_id, environment=scope.environment, customer=customer,
            product=item.product, product_version=item.product.latest_version,
            price=item.price, status=Status.CHECKOUT, current_period_start=at,
            quantity=item.quantity, metadata=metadata, checkout=checkout,
        )
    subscription = subscription_start(
        scope=scope, customer=customer, product=item.product, price=item.price,
        status=Status.ACTIVE, at=at, quantity=item.quantity, metadata=metadata,
    )
    if item.replaces is not None:
        subscription_end(subscription=item.replaces, status=Status.CANCELED, at=at,
                         replaced_by=subscription)
    return subscription


def _plan(customer, items: list[AttachItem], at) -> list[_Planned]:
    """Check every item (422 naming `products[i].…` for the first problem)."""
    planned, seen, groups = [], set(), set()
    for index, item in enumerate(items):
        field = f"products[{index}]"
        product = item.product
        if product is None:
            raise ValidationFailed.field(f"{field}.product", "No such product.")
        if product.id in seen:
            raise ValidationFailed.field(f"{field}.product", "Listed twice.")
        seen.add(product.id)
        if not product.is_add_on and product.group_slug:
            if product.group_slug in groups:
                raise ValidationFailed.field(
                    f"{field}.product", "Two plans of the same group cannot be attached together.")
            groups.add(product.group_slug)
        eligibility = plans_eligibility(customer, [product], at)[product.id]
        held = None
        if eligibility.current_subscription_id:
            held = Subscription.objects.select_related("price", "product").get(
                pk=eligibility.current_subscription_id)
        try:
            price = resolve_price(product, item.price_id, None)
        except NotFound as exc:  # within a list, a bad reference is a field of the body
            raise ValidationFailed.field(f"{field}.priceId", exc.details[0]["message"]) from exc
        if price is None or not is_recurring(price):
            raise ValidationFailed.field(f"{field}.priceId",
                                         "Only recurring prices can be multi-attached.")
        if planned and price.currency != planned[0].price.currency:
            raise ValidationFailed.field(f"{field}.priceId",
                                         "Every price must be in the same currency.")
        free_held = held is not None and not price_amount(held.price, held.quantity)
        if held is not None and not (free_held and held.product_id != product.id):
            raise ValidationFailed.field(
                f"{field}.product",
                "The customer already has this product or a plan of its group; "
                "use /subscribe to change plans.")
        planned.append(_Planned(product, price, item.quantity, held))
    return planned


def _coupon(scope, customer, planned, code, charge, at, actor):
    """Redeem `code` once, on the recurring total, for the first product it is valid for."""
    if not code:
        return charge, Redeemed(), None
    total = sum(price_amount(item.price, item.quantity) for item in planned)
    target = next((item for item in planned if coupon_validate(
        scope=scope, code=code, customer=customer, product=item.product, amount=total,
        at=at).valid), planned[0])
    request = SubscribeRequest(product=target.product, coupon_code=code)
    charge, redeemed = coupon_apply(scope=scope, customer=customer, request=request,
                                    price=target.price, at=at, actor=actor, charge=charge,
                                    amount=total)
    return charge, redeemed, target

"""`subscribe`: the scenarios of API.md (checkout, activated, scheduled, noop).

One transaction under lock_customer(customer.id). The scenario comes from
billing.selectors.plans (the same rule the plans list shows): nothing current in the group →
new; the same product → noop; a higher monthly rate → upgrade now; a lower one → downgrade at
period end. Money due now with no card to charge → a hosted checkout, whose completion
(billing.services.checkouts) finishes the subscription. Posts no ledger entry where no money
moves; invoices it writes are posted by the ledger rules once they land.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from billing.models import (
    Checkout,
    CouponRedemption,
    Invoice,
    InvoiceLine,
    Price,
    Product,
    Subscription,
)
from billing.proration import upgrade_preview
from billing.selectors.plans import plan_price, plans_eligibility
from billing.services.audit import Actor
from billing.services.checkout_expiry import checkout_abandon
from billing.services.coupons import coupon_redeem, coupon_redemption_apply
from billing.services.final_overage import overage_cut, replaced_retire
from billing.services.invoices import LineDraft, invoice_issue, invoice_totals
from billing.services.purchases import purchase_record
from billing.services.subscriptions import (
    anchor_day_for,
    announce,
    is_recurring,
    period_end_after,
    price_amount,
    subscription_start,
)
from billing.services.checkout_claims import (
    claim_for_saved_card, claimed_by_another, refuse_while_paying,
)
from billing.services.subscribe_request import SubscribeOutcome, SubscribeRequest
from cynco.errors import Forbidden, NotFound
from cynco.locks import lock_customer
from cynco.tenancy import Scope

Status = Subscription.Status
LineType = InvoiceLine.Type


@dataclass(frozen=True)
class Charge:
    """What starting `price` now costs: invoice lines and the amount due after credits."""

    lines: tuple[LineDraft, ...]
    amount_due: int
    credit: int
    period_end: datetime | None


def resolve_price(product: Product, price_id: str | None, held: Subscription | None):
    """The price bought: `priceId` (which must be one of the product's latest version) or the
    one matching the current subscription's interval (billing.selectors.plans.plan_price)."""
    if price_id is None:
        return plan_price(product, held.price if held else None)
    for price in product.latest_version.prices.all():
        if price.id == price_id:
            return price
    # A reference to something that does not exist (here): 404, like an unknown product.
    raise NotFound(f"priceId: not a price of product '{product.slug}'",
                   details=[{"field": "priceId", "message": "Not a price of this product."}])


def charge_for(
    *, product: Product, price: Price | None, quantity: int, held: Subscription | None,
    at: datetime, anchor_day: int | None, first: bool,
) -> Charge:
    """Lines of the first invoice of `price` starting at `at`: the period at full price, the
    setup fee when `first` (a new customer of the product), and, on an upgrade, the credit for
    the unused part of `held` (billing.proration: the same numbers the preview shows)."""
    anchor = anchor_day_for(price, at, anchor_day)
    end = period_end_after(price, at, anchor)
    amount = price_amount(price, quantity)
    lines = []
    if price is not None:
        # A tiered price has no one unit amount: the line shows the table's total as its unit.
        unit = amount if price.tiers_mode else price.amount
        lines.append(LineDraft(
            LineType.SUBSCRIPTION if is_recurring(price) else LineType.ONE_OFF,
            product.name, amount, quantity=quantity, unit_amount=unit,
            period_start=at if end else None, period_end=end,
        ))
        if first and price.setup_fee:
            lines.append(LineDraft(LineType.SETUP_FEE, f"Setup fee: {product.name}",
                                   price.setup_fee))
    credit = upgrade_credit(held=held, product=product, new_amount=amount, at=at,
                            currency=price.currency if price is not None else None)
    if credit:
        lines.append(LineDraft(
            LineType.PRORATION, f"Credit for {held.product.name}", -credit,
            period_start=at, period_end=held.current_period_end,
        ))
    return Charge(tuple(lines), amount_due_of(lines), credit, end)


def amount_due_of(lines) -> int:
    return invoice_totals(list(lines), Decimal(str(settings.INVOICE_TAX_RATE_PERCENT))).amount_due


@dataclass(frozen=True)
class Redeemed:
    """A coupon redeemed on subscribe: the redemption, the first invoice's discount (counted
    as its first cycle) and the days it adds to a trial."""

    redemption_id: str | None = None
    discount: int = 0
    trial_days: int = 0


def coupon_apply(*, scope, customer, request, price, at, actor, charge: Charge | None,
                 amount: int) -> tuple[Charge | None, Redeemed]:
    """Redeem `request.coupon_code` on `amount` (the price's first period) inside the subscribe
    transaction (coupon_redeem: CouponNotApplicable, a 422 on couponCode, rolls it all back);
    with a `charge` (the first invoice priced now) its discount counts the first cycle and
    becomes a `discount` line."""
    if not request.coupon_code:
        return charge, Redeemed()
    recurring = is_recurring(price)
    redemption = coupon_redeem(
        scope=scope, code=request.coupon_code, customer=customer, product=request.product,
        amount=amount, at=at, actor=actor,
        interval=(price.billing_interval or "month") if recurring else None,
        interval_count=(price.billing_interval_count or 1) if recurring else 1,
    )
    discount = 0
    if charge is not None and amount:
        discount = coupon_redemption_apply(scope=scope, redemption_id=redemption.id,
                                           amount=amount)
    if discount:
        lines = (*charge.lines, LineDraft(LineType.DISCOUNT,
                                          f"Discount ({redemption.coupon.code})", -discount))
        charge = Charge(lines, amount_due_of(lines), charge.credit, charge.period_end)
    return charge, Redeemed(redemption.id, discount, redemption.trial_extension_days)


def redemption_link(redeemed: Redeemed, subscription: Subscription) -> None:
    """The redemption discounts this subscription's later invoices."""
    if redeemed.redemption_id:
        CouponRedemption.objects.filter(pk=redeemed.redemption_id).update(
            subscription_id=subscription.id)


def upgrade_credit(*, held: Subscription | None, product: Product, new_amount: int,
                   at: datetime, currency: str | None = None) -> int:
    """The unused part of what `held` paid for its current period (0 for trials, free plans,
    unpaid or finished periods): its price, less the discount its period invoice had. 0 when
    the new price is in another `currency`: that part is refunded in its own currency
    instead (final_overage.replaced_retire), never credited across currencies."""
    if held is None or held.status != Status.ACTIVE or held.price is None:
        return 0
    if currency is not None and held.price.currency != currency:
        return 0
    paid = price_amount(held.price, held.quantity)
    invoice = Invoice.objects.filter(
        Q(subscription=held) | Q(lines__subscription_id=held.id),
        period_start=held.current_period_start,
    ).exclude(status=Invoice.Status.VOID).distinct().first()
    if invoice is not None:  # a coupon lowered what the period cost: credit only that
        billed = sum(line.amount for line in invoice.lines.all()
                     if line.type in (LineType.SUBSCRIPTION, LineType.DISCOUNT)
                     and (line.subscription_id or invoice.subscription_id) == held.id)
        paid = max(min(paid, billed), 0)
    if not paid or held.current_period_end is None or at >= held.current_period_end:
        return 0
    start = min(held.current_period_start, at)
    return upgrade_preview(held.product.name, paid, start, held.current_period_end,
                           product.name, new_amount, at).credit


def subscribe(*, scope: Scope, customer, request: SubscribeRequest, at: datetime,
              actor: Actor) -> SubscribeOutcome:
    """Subscribe `customer` to `request.product` as API.md's scenarios say.

    Takes lock_customer(customer.id) first. Writes the subscription (or schedules the change),
    its first invoice when something is charged, and a Checkout when money is due. Emits
    subscription.* and invoice.* events and audit rows. Refuses a publishable key anything but
    a checkout, a free activation or a noop (403).
    """
    with transaction.atomic():
        lock_customer(customer.id)
        product = request.product
        held, scenario = _current(customer, product, at)
        price = resolve_price(product, request.price_id, held)
        if price is not None and price.type == Price.Type.ONE_TIME:
            return _purchase(scope, customer, request, price, at, actor)
        if scenario == "active":
            if held.status == Status.CHECKOUT and held.checkout is not None:
                if claimed_by_another(held.checkout, request.charge_token):
                    return SubscribeOutcome("noop", held)  # the same change, being paid
                claim_for_saved_card(checkout=held.checkout, request=request)
                return SubscribeOutcome("checkout", held, held.checkout)
            return SubscribeOutcome("noop", held)
        if scenario == "scheduled":
            return SubscribeOutcome("noop", held, effective_at=held.current_period_end)
        if scenario == "canceled":
            return _uncancel(scope, held, request, at, actor)
        if scenario == "downgrade":
            return _schedule_downgrade(scope, held, price, request, at, actor)
        return _start(scope, customer, held, price, request, at, actor, scenario)


def _current(customer, product: Product, at: datetime):
    """The customer's current subscription the product competes with, and the scenario.
    An abandoned checkout for another product of the group is dropped first."""
    waiting = (customer.subscriptions.select_related("product", "price", "checkout")
               .filter(product=product, status=Status.CHECKOUT).order_by("-created_at").first())
    if waiting is not None:  # the same subscribe again (a retry, a second click): reuse it
        return waiting, "active"
    if not product.is_add_on:  # changed their mind: the other plan's checkout is dropped
        for other in (customer.subscriptions.select_related("checkout")
                      .filter(status=Status.CHECKOUT, product__is_add_on=False,
                              product__group_slug=product.group_slug)
                      .exclude(product=product)):
            refuse_while_paying(other.checkout, doing="nothing was charged")
            checkout_abandon(other, at)
    eligibility = plans_eligibility(customer, [product], at)[product.id]
    held = None
    if eligibility.current_subscription_id:
        held = (Subscription.objects.select_related("product", "price", "checkout")
                .get(pk=eligibility.current_subscription_id))
    if held is not None and held.status == Status.CHECKOUT and held.product_id != product.id:
        refuse_while_paying(held.checkout, doing="nothing was charged")
        checkout_abandon(held, at)
        return _current(customer, product, at)
    return held, eligibility.scenario


def _uncancel(scope, held, request, at, actor) -> SubscribeOutcome:
    if request.publishable:
        raise Forbidden("A publishable key may not change an existing subscription")
    held.cancel_at_period_end = False
    held.save(update_fields=["cancel_at_period_end", "updated_at"])
    announce(scope=scope, subscription=held, events=["subscription.updated"], actor=actor,
             details={"change": "uncanceled"})
    return SubscribeOutcome("activated", held)


def _schedule_downgrade(scope, held, price, request, at, actor) -> SubscribeOutcome:
    if request.publishable:
        raise Forbidden("A publishable key may not downgrade; call subscribe from your backend")
    held.scheduled_price = price
    held.save(update_fields=["scheduled_price", "updated_at"])
    announce(scope=scope, subscription=held, events=["subscription.updated"], actor=actor,
             details={"change": "downgrade_scheduled", "toProduct": price.product.slug
                      if price else None, "effectiveAt": held.current_period_end})
    return SubscribeOutcome("scheduled", held, effective_at=held.current_period_end)


def _start(scope, customer, held, price, request, at, actor, scenario) -> SubscribeOutcome:
    """A new subscription (scenario new) or an upgrade that replaces `held` now."""
    product = request.product
    trial = plans_eligibility(customer, [product], at)[product.id].trial_available
    # A trial is for someone new to the product: no plan in the group, or a free one.
    from_free = held is None or not price_amount(held.price, held.quantity)
    amount = price_amount(price, request.quantity)
    if trial and from_free and price is not None and price.trial_days:
        _, redeemed = coupon_apply(scope=scope, customer=customer, request=request, price=price,
                                   at=at, actor=actor, charge=None, amount=amount)
        days = price.trial_days + redeemed.trial_days
        if not price.trial_requires_card or (request.card_on_file and not request.publishable):
            return _activate(scope, customer, held, price, request, at, actor,
                             trial_end=at + timedelta(days=days), redeemed=redeemed)
        return _checkout(scope, customer, held, price, request, at, actor, mode=Checkout.Mode.SETUP,
                         amount=0, lines=(), trial_days=days, redeemed=redeemed)
    first = not Subscription.objects.filter(customer=customer, product=product).exclude(
        status=Status.CHECKOUT).exists()
    charge = charge_for(product=product, price=price, quantity=request.quantity, held=held,
                        at=at, anchor_day=request.billing_anchor_day, first=first)
    charge, redeemed = coupon_apply(scope=scope, customer=customer, request=request,
                                    price=price, at=at, actor=actor, charge=charge,
                                    amount=amount)
    if charge.amount_due == 0:
        return _activate(scope, customer, held, price, request, at, actor, charge=charge,
                         redeemed=redeemed)
    return _checkout(scope, customer, held, price, request, at, actor, mode=Checkout.Mode.PAYMENT,
                     amount=charge.amount_due, lines=charge.lines, redeemed=redeemed)


def _activate(scope, customer, held, price, request, at, actor, *, charge: Charge | None = None,
              trial_end=None, checkout=None, redeemed: Redeemed = Redeemed()) -> SubscribeOutcome:
    """Start the subscription now (nothing due, or just paid) and retire `held` (its overage
    so far billed first, on its own terms)."""
    overage = overage_cut(subscription=held, at=at) if held is not None else []
    subscription = subscription_start(
        scope=scope, customer=customer, product=request.product, price=price,
        status=Status.TRIALING if trial_end else Status.ACTIVE, at=at,
        quantity=request.quantity, anchor_day=request.billing_anchor_day,
        trial_end=trial_end, metadata=request.metadata, checkout=checkout,
    )
    redemption_link(redeemed, subscription)
    events = ["subscription.created", "subscription.activated"]
    if held is not None:
        replaced_retire(scope=scope, held=held, replacement=subscription, overage=overage,
                        at=at, carry_balances=request.carry_over_balances,
                        carry_usages=request.carry_over_usages,
                        carry_feature_slugs=request.carry_over_feature_ids)
        events.append("subscription.upgraded")
    if charge is not None and charge.lines and any(line.amount for line in charge.lines):
        invoice_issue(
            scope=scope, customer=customer, subscription=subscription,
            reason=Invoice.Reason.SUBSCRIPTION_CREATE, currency=price.currency,
            lines=list(charge.lines), at=at, period_start=at, period_end=charge.period_end,
        )
    announce(scope=scope, subscription=subscription, events=events, actor=actor,
             details={"replaces": held.id} if held else None)
    proration = charge.amount_due if charge is not None and held is not None else None
    return SubscribeOutcome("activated", subscription, proration_amount=proration,
                            discount_amount=discount_of(request, redeemed))


def discount_of(request: SubscribeRequest, redeemed: Redeemed) -> int | None:
    """SubscribeResult.discountAmount: only when a couponCode was given."""
    return redeemed.discount if request.coupon_code else None


def _checkout(scope, customer, held, price, request, at, actor, *, mode, amount, lines,
              trial_days: int = 0, redeemed: Redeemed = Redeemed()):
    """Money is due (or a card must be saved): a Checkout and a subscription waiting for it."""
    product = request.product
    checkout = Checkout.objects.create(
        merchant_id=scope.merchant_id, environment=scope.environment, customer=customer,
        mode=mode, amount=amount, currency=price.currency, created_at=at,
        description=product.name, success_url=request.success_url,
        cancel_url=request.cancel_url,
        plan={"replaces": held.id if held else None, "trialDays": trial_days,
              "redemptionId": redeemed.redemption_id,
              "carryOverBalances": request.carry_over_balances,
              "carryOverUsages": request.carry_over_usages,
              "carryOverFeatureIds": request.carry_over_feature_ids,
              "billingAnchorDay": request.billing_anchor_day,
              "lines": [line_json(line) for line in lines]},
    )
    subscription = Subscription.objects.create(
        merchant_id=scope.merchant_id, environment=scope.environment, customer=customer,
        product=product, product_version=product.latest_version, price=price,
        status=Status.CHECKOUT, current_period_start=at, quantity=request.quantity,
        billing_anchor_day=request.billing_anchor_day, metadata=request.metadata,
        checkout=checkout,
    )
    claim_for_saved_card(checkout=checkout, request=request)
    redemption_link(redeemed, subscription)
    announce(scope=scope, subscription=subscription, events=["subscription.created"],
             actor=actor, details={"checkoutId": checkout.id})
    proration = amount if held is not None else None
    return SubscribeOutcome("checkout", subscription, checkout, proration_amount=proration,
                            discount_amount=discount_of(request, redeemed))


def line_json(line: LineDraft) -> dict:
    return {"type": line.type, "description": line.description, "amount": line.amount,
            "quantity": str(line.quantity), "unitAmount": line.unit_amount,
            "subscriptionId": line.subscription_id}


def _purchase(scope, customer, request, price, at, actor) -> SubscribeOutcome:
    """A one-time price: `quantity` units granted at once once paid (nothing due: at once)."""
    charge = charge_for(product=request.product, price=price, quantity=request.quantity,
                        held=None, at=at, anchor_day=None, first=False)
    charge, redeemed = coupon_apply(
        scope=scope, customer=customer, request=request, price=price, at=at, actor=actor,
        charge=charge, amount=price_amount(price, request.quantity))
    if charge.amount_due:
        return _checkout(scope, customer, None, price, request, at, actor,
                         mode=Checkout.Mode.PAYMENT, amount=charge.amount_due,
                         lines=charge.lines, redeemed=redeemed)
    subscription = purchase_record(
        scope=scope, customer=customer, product=request.product, price=price,
        quantity=request.quantity, at=at, actor=actor, metadata=request.metadata,
    )
    redemption_link(redeemed, subscription)
    return SubscribeOutcome("activated", subscription,
                            discount_amount=discount_of(request, redeemed))

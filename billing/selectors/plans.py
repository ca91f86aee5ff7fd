"""Plans as a customer sees them: for each product, the scenario subscribing would follow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from billing.models import Customer, Price, Product, Subscription
from billing.plan_changes import change_direction, monthly_rate
from billing.proration import upgrade_preview
from billing.selectors.customers import current_subscriptions, ever_trialed


@dataclass(frozen=True)
class Eligibility:
    scenario: str  # new | upgrade | downgrade | active | scheduled | canceled
    current_subscription_id: str | None
    proration_amount: int | None
    trial_available: bool


def plan_price(product: Product, current: Price | None) -> Price | None:
    """The price of `product` a customer on `current` would move to: the one with the same
    interval, count and currency when there is one, else the product's first price."""
    prices = list(product.latest_version.prices.all())
    if current is not None:
        for price in prices:
            if (price.billing_interval, price.billing_interval_count, price.currency) == (
                current.billing_interval, current.billing_interval_count, current.currency
            ):
                return price
    return prices[0] if prices else None


def rate_of(price: Price | None):
    if price is None:
        return monthly_rate(0, None, None)
    return monthly_rate(price.amount, price.billing_interval, price.billing_interval_count)


def plans_eligibility(
    customer: Customer, products: list[Product], at: datetime
) -> dict[str, Eligibility]:
    """Each product's Eligibility for `customer` at `at`, by product id.

    A base plan is compared with the customer's current subscription in the same group (plans
    without a group form one group); an add-on only with a subscription to itself, since
    add-ons stack. No current subscription: `new`. The same product: `active`, or `canceled`
    when it is set to end at the period's end. The product the current subscription is
    scheduled to change to: `scheduled`. Otherwise `upgrade` or `downgrade` by monthly rate
    (billing.plan_changes); an upgrade's `prorationAmount` is what it would charge now, the new
    price less the unused part of the current period. A trial is available when the price has
    one and the customer never trialed the product.
    """
    current = list(current_subscriptions(customer))
    trialed = ever_trialed(customer)
    result = {}
    for product in products:
        held = _current_for(product, current)
        price = plan_price(product, held.price if held else None)
        trial = bool(price and price.trial_days) and product.id not in trialed
        if held is None:
            result[product.id] = Eligibility("new", None, None, trial)
            continue
        scenario, proration = _scenario(product, held, price, at), None
        if scenario == "upgrade":
            proration = _upgrade_charge(held, product, price, at)
        result[product.id] = Eligibility(scenario, held.id, proration, trial)
    return result


def _current_for(product: Product, current: list[Subscription]) -> Subscription | None:
    for subscription in current:
        if product.is_add_on:
            if subscription.product_id == product.id:
                return subscription
        elif (not subscription.product.is_add_on
              and subscription.product.group_slug == product.group_slug):
            return subscription
    return None


def _scenario(product: Product, held: Subscription, price: Price | None, at: datetime) -> str:
    if held.product_id == product.id:
        return "canceled" if held.cancel_at_period_end else "active"
    if held.scheduled_price is not None and held.scheduled_price.product_id == product.id:
        return "scheduled"
    return change_direction(rate_of(held.price), rate_of(price))


def _upgrade_charge(held: Subscription, product: Product, price: Price | None, at) -> int:
    new_amount = (price.amount if price else 0) * held.quantity
    paid = held.price.amount * held.quantity if held.price else 0
    if price is not None and held.price is not None and price.currency != held.price.currency:
        paid = 0  # never credited across currencies: refunded in its own (docs/accounting.md)
    if not paid or held.current_period_end is None or at >= held.current_period_end:
        return new_amount
    start = min(held.current_period_start, at)
    preview = upgrade_preview(
        held.product.name, paid, start, held.current_period_end, product.name, new_amount, at
    )
    return preview.amount_due

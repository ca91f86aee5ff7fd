"""Many customers on Pro (2000 a month) whose period ended a second ago, each with a saved
sandbox card and the grants and balances of Pro (entitlement_sync, as subscribe leaves them):
what the period-end job meets at a busy minute. Rows are written in bulk (the API would take
minutes for thousands); used by the renewal batch tests and bench/renewals.py."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from billing.api.product_input import ProductInput
from billing.models import Customer, Product, Subscription
from billing.services import entitlement_sync
from billing.services.catalog import product_define, product_definition
from cynco import clock
from cynco.tenancy import Scope
from gateways.models import PaymentMethod
from gateways.sandbox.models import SandboxPaymentMethod
from tests.billing.catalog import PRO

OK_CARD = "4242424242424242"


def pro_product(scope: Scope) -> Product:
    values = ProductInput(data=PRO)
    values.is_valid(raise_exception=True)
    product_define(scope=scope, slug="pro",
                   definition=product_definition(dict(values.validated_data)))
    return Product.objects.for_scope(scope).get(slug="pro")


def due_subscriptions(scope: Scope, count: int, *, cards=(OK_CARD,), offset: int = 0,
                      product: Product | None = None) -> list[Subscription]:
    """`count` customers `user_<offset+n>` on Pro, due one second ago. `cards` is cycled
    through (None: no saved card)."""
    product = product or Product.objects.for_scope(scope).filter(slug="pro").first() \
        or pro_product(scope)
    price = product.latest_version.prices.get()
    now = clock.now(scope)
    start, end = now - timedelta(days=30), now - timedelta(seconds=1)
    tenant = {"merchant_id": scope.merchant_id, "environment": scope.environment}
    customers = Customer.objects.bulk_create(
        [Customer(external_id=f"user_{offset + n}", **tenant) for n in range(count)],
        batch_size=2000)
    save_cards(scope, [(c, cards[n % len(cards)]) for n, c in enumerate(customers)])
    subscriptions = Subscription.objects.bulk_create(
        [Subscription(customer=c, product=product, product_version=product.latest_version,
                      price=price, status="active", current_period_start=start,
                      current_period_end=end, billing_anchor_day=start.day, **tenant)
         for c in customers], batch_size=2000)
    for chunk in range(0, len(subscriptions), 500):
        with transaction.atomic():
            for subscription in subscriptions[chunk:chunk + 500]:
                entitlement_sync.subscription_changed(subscription=subscription, at=start)
    return subscriptions


def save_cards(scope: Scope, cards) -> None:
    """Give each (customer, card number) a saved default sandbox card (None: no card), as a
    paid checkout leaves it."""
    tenant = {"merchant_id": scope.merchant_id, "environment": scope.environment}
    carded = [(c, card) for c, card in cards if card is not None]
    methods = SandboxPaymentMethod.objects.bulk_create(
        [SandboxPaymentMethod(customer_reference=c.id, card_number=card, brand="visa",
                              exp_month=12, exp_year=2040, **tenant) for c, card in carded],
        batch_size=2000)
    PaymentMethod.objects.bulk_create(
        [PaymentMethod(customer_reference=c.id, gateway="sandbox", token=method.id,
                       brand="visa", last4=card[-4:], exp_month=12, exp_year=2040,
                       is_default=True, **tenant)
         for (c, card), method in zip(carded, methods)], batch_size=2000)

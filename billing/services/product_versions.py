"""Moving subscribers from one product version to the product's latest version."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from billing.models import Price, Product, ProductVersion, Subscription
from cynco.locks import lock_customer
from cynco.tenancy import Scope

DEFAULT_BATCH_SIZE = 200


def matching_price(prices: list[Price], old: Price | None) -> Price | None:
    """The new version's price that corresponds to `old`: same type, interval, count and
    currency if there is one, else the same position, else the first (None without prices)."""
    if not prices:
        return None
    if old is not None:
        for price in prices:
            if (price.type, price.billing_interval, price.billing_interval_count,
                    price.currency) == (old.type, old.billing_interval,
                                        old.billing_interval_count, old.currency):
                return price
        if old.position < len(prices):
            return prices[old.position]
    return prices[0]


def product_version_migrate(
    *,
    scope: Scope,
    product: Product,
    version: ProductVersion,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_batch: Callable[[int, int], None] | None = None,
) -> int:
    """Move every current subscriber of `version` to `product`'s latest version.

    Works in batches of `batch_size` subscriptions; `on_batch(batch_number, moved_so_far)` is
    called after each. Each subscription moves in its own transaction under its customer's
    lock (lock_customer), so a migration never holds many customers at once and a crash
    leaves every subscription either moved or not. A subscription keeps its period, status and
    quantity; its features follow the new version at once and its price (the new version's
    matching price, see matching_price) applies from its next invoice. Posts no ledger entry.
    Returns how many subscriptions moved.
    """
    target = product.latest_version
    if target is None or version.pk == target.pk:
        return 0
    new_prices = list(target.prices.order_by("position"))
    moved = batch = 0
    last_id = ""
    while True:
        ids = list(
            Subscription.objects.for_scope(scope)
            .filter(product_version=version, status__in=Subscription.CURRENT_STATUSES,
                    pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", "customer_id")[:batch_size]
        )
        if not ids:
            return moved
        for subscription_id, customer_id in ids:
            moved += _move(subscription_id, customer_id, version, target, new_prices)
        last_id = ids[-1][0]
        batch += 1
        if on_batch is not None:
            on_batch(batch, moved)


def _move(subscription_id, customer_id, version, target, new_prices) -> int:
    with transaction.atomic():
        lock_customer(customer_id)
        subscription = (
            Subscription.objects.select_for_update(of=("self",)).select_related("price")
            .filter(pk=subscription_id, product_version=version,
                    status__in=Subscription.CURRENT_STATUSES).first()
        )
        if subscription is None:  # changed since the batch was read
            return 0
        subscription.product_version = target
        subscription.price = matching_price(new_prices, subscription.price)
        subscription.save(update_fields=["product_version", "price", "updated_at"])
        return 1

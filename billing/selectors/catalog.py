"""Reads of the catalog: products with their latest version's prices and features."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from billing.models import FeatureGrant, Price, Product, ProductVersion, Subscription
from cynco.errors import NotFound, ProductNotFound
from cynco.tenancy import Scope


def products_with_terms(scope: Scope) -> QuerySet[Product]:
    """The scope's active products, ordered for display, with their latest version's prices
    and feature grants loaded in three queries."""
    return (
        Product.objects.for_scope(scope)
        .filter(status=Product.Status.ACTIVE, latest_version__isnull=False)
        .select_related("latest_version")
        .prefetch_related(
            Prefetch("latest_version__prices", queryset=Price.objects.order_by("position")),
            Prefetch(
                "latest_version__feature_grants",
                queryset=FeatureGrant.objects.select_related("feature").order_by("position"),
            ),
        )
        .order_by("sort_order", "created_at", "id")
    )


def product_find(scope: Scope, product_ref: str) -> Product:
    """The product whose id or slug is `product_ref` (API.md: productId takes either).

    Raises ProductNotFound (404) for anything not of this scope.
    """
    product = (
        products_with_terms(scope).filter(Q(pk=product_ref) | Q(slug=product_ref)).first()
    )
    if product is None:
        raise ProductNotFound(f"No product '{product_ref}'")
    return product


def product_versions(product: Product) -> QuerySet[ProductVersion]:
    """Every version of `product`, oldest first, each with its number of current subscribers."""
    return product.versions.annotate(
        subscriber_count=Count(
            "subscriptions",
            filter=Q(subscriptions__status__in=Subscription.CURRENT_STATUSES),
        )
    ).order_by("version")


def product_version_find(product: Product, version_id: str) -> ProductVersion:
    version = product.versions.filter(pk=version_id).first()
    if version is None:
        raise NotFound(f"Product '{product.slug}' has no version '{version_id}'")
    return version

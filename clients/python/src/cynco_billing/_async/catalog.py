"""Products, versions, plans, previews, the pricing table, and customers.

(The sync client is generated from this async code: scripts/generate_sync.py.)"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cynco_billing._async.http import AsyncHttp
from cynco_billing._transport import Call, Page, changing, compact
from cynco_billing.inputs import FeatureInput, PriceInput, wire_many
from cynco_billing.models import (
    CustomerState,
    Deleted,
    Migrated,
    Plan,
    PreviewResult,
    PricingTable,
    Product,
    ProductVersions,
)


class AsyncCatalogApi(AsyncHttp):
    async def list_products(self, *, limit: int | None = None,
                            offset: int | None = None) -> Page[Product]:
        return await self._page(Product, Call("GET", "/api/v1/pay/products", params={
            "limit": limit, "offset": offset}))

    async def create_product(
        self, name: str, slug: str, *, description: str | None = None,
        is_default: bool | None = None, is_add_on: bool | None = None,
        group_slug: str | None = None, sort_order: int | None = None,
        metadata: Mapping[str, Any] | None = None,
        prices: Iterable[PriceInput | Mapping[str, Any]] | None = None,
        features: Iterable[FeatureInput | Mapping[str, Any]] | None = None,
        idempotency_key: str | None = None,
    ) -> Product:
        """Create a product, or return it unchanged when `slug` exists with this very
        definition; a different definition becomes a new version (subscribers keep theirs)."""
        body = compact(name=name, slug=slug, description=description, isDefault=is_default,
                       isAddOn=is_add_on, groupSlug=group_slug, sortOrder=sort_order,
                       metadata=metadata, prices=wire_many(prices, PriceInput),
                       features=wire_many(features, FeatureInput))
        return await self._one(Product, Call("POST", "/api/v1/pay/products", body=body,
                                              idempotency_key=changing(idempotency_key)))

    async def list_product_versions(self, product_id: str) -> ProductVersions:
        """The versions of a product (its id or slug)."""
        return await self._one(ProductVersions, Call(
            "GET", "/api/v1/pay/products/versions", params={"productId": product_id}))

    async def migrate_customers(self, product_id: str, version_id: str, *,
                                idempotency_key: str | None = None) -> Migrated:
        """Move the subscribers of `version_id` to the product's latest version."""
        return await self._one(Migrated, Call(
            "POST", "/api/v1/pay/products/versions",
            body={"productId": product_id, "versionId": version_id},
            idempotency_key=changing(idempotency_key)))

    async def list_plans(self, customer: str | None = None, *, limit: int | None = None,
                         offset: int | None = None) -> Page[Plan]:
        """Plans; with `customer`, each says what subscribing would be for them."""
        return await self._page(Plan, Call("GET", "/api/v1/pay/plans", params={
            "customer": customer, "limit": limit, "offset": offset}))

    async def preview_attach(self, customer: str, product: str,
                             price_id: str | None = None) -> PreviewResult:
        """What `subscribe` would charge and change, with nothing done."""
        body = compact(customer=customer, product=product, priceId=price_id)
        return await self._one(PreviewResult, Call("POST", "/api/v1/pay/preview", body=body))

    async def get_pricing_table(self, customer: str | None = None) -> PricingTable:
        return await self._one(PricingTable, Call(
            "GET", "/api/v1/pay/components/pricing-table", params={"customer": customer}))

    async def get_or_create_customer(
        self, customer_id: str, *, name: str | None = None, email: str | None = None,
        metadata: Mapping[str, Any] | None = None, idempotency_key: str | None = None,
    ) -> CustomerState:
        """The customer with your id `customer_id`, created if new: safe on every login."""
        body = compact(customerId=customer_id, name=name, email=email, metadata=metadata)
        return await self._one(CustomerState, Call("POST", "/api/v1/pay/customers", body=body,
                                                    idempotency_key=changing(idempotency_key)))

    async def get_customer(self, external_id: str) -> CustomerState:
        return await self._one(CustomerState, Call("GET", "/api/v1/pay/customers",
                                                    params={"id": external_id}))

    async def list_customers(self, *, limit: int | None = None,
                             offset: int | None = None) -> Page[CustomerState]:
        return await self._page(CustomerState, Call("GET", "/api/v1/pay/customers", params={
            "limit": limit, "offset": offset}))

    async def update_customer(
        self, customer_id: str, *, name: str | None = None, email: str | None = None,
        metadata: Mapping[str, Any] | None = None, idempotency_key: str | None = None,
    ) -> CustomerState:
        body = compact(customerId=customer_id, name=name, email=email, metadata=metadata)
        return await self._one(CustomerState, Call("PUT", "/api/v1/pay/customers", body=body,
                                                    idempotency_key=changing(idempotency_key)))

    async def delete_customer(self, customer_id: str, *,
                              idempotency_key: str | None = None) -> Deleted:
        return await self._one(Deleted, Call("DELETE", "/api/v1/pay/customers",
                                              params={"id": customer_id},
                                              idempotency_key=changing(idempotency_key)))

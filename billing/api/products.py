"""`/products` and `/products/versions` (secret keys only)."""

from __future__ import annotations

from rest_framework import serializers

from billing.api.catalog_output import product_data, version_data
from billing.api.product_input import ProductInput
from billing.api.shapes.catalog import MigratedShape, ProductShape, ProductVersionsShape
from billing.selectors.catalog import (
    product_find,
    product_version_find,
    product_versions,
    products_with_terms,
)
from billing.services.catalog import product_define, product_definition
from billing.services.product_versions import product_version_migrate
from cynco.api.schema import PageOf, openapi, query_param
from cynco.api.views import ApiView
from cynco.errors import ValidationFailed
from cynco.fields import StrictCharField
from cynco.responses import ok, page_of, paginated


class ProductsView(ApiView):
    @openapi("product_create", summary="Define a product (or a new version of it)",
             description="The same slug with an identical definition answers the product "
                         "unchanged (200); a different definition makes a new version (201). "
                         "Subscribers stay on the version they bought until migrated.",
             input=ProductInput, data=ProductShape, status=(200, 201))
    def post(self, request):
        data = ProductInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        product, changed = product_define(
            scope=self.scope, slug=values["slug"], definition=product_definition(values),
            metadata=values.get("metadata"),
        )
        answer = product_data(product_find(self.scope, product.id))
        return ok(answer, status=201 if changed else 200)

    @openapi("products_list", summary="Products", data=PageOf(ProductShape))
    def get(self, request):
        page = page_of(request)
        products = products_with_terms(self.scope)
        return paginated(
            [product_data(p) for p in page.slice(products)], total=products.count(), page=page
        )


class MigrateInput(serializers.Serializer):
    productId = StrictCharField(max_length=100)
    versionId = StrictCharField(max_length=40)


class ProductVersionsView(ApiView):
    @openapi("product_versions_list", summary="A product's versions",
             query=[query_param("productId", "The product's id or slug.", required=True)],
             data=ProductVersionsShape, errors=(404,))
    def get(self, request):
        product_ref = request.query_params.get("productId")
        if not product_ref:
            raise ValidationFailed.field("productId", "This query parameter is required.")
        product = product_find(self.scope, product_ref)
        return ok({"versions": [version_data(v) for v in product_versions(product)]})

    @openapi("product_versions_migrate",
             summary="Move a version's subscribers to the latest version", input=MigrateInput,
             data=MigratedShape, errors=(404,))
    def post(self, request):
        data = MigrateInput(data=request.data)
        data.is_valid(raise_exception=True)
        product = product_find(self.scope, data.validated_data["productId"])
        version = product_version_find(product, data.validated_data["versionId"])
        migrated = product_version_migrate(scope=self.scope, product=product, version=version)
        return ok({"migrated": migrated})

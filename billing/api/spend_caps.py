"""`/spend-caps`: read and set a customer's (or a product's default) overage spend cap."""

from __future__ import annotations

from rest_framework import serializers

from billing.api.shapes.entitlements import ProductSpendCapShape, SpendCapStatusShape
from billing.api.usage import StrictChoiceField, parsed
from billing.selectors.entitlements import spend_cap_status
from billing.services import spend_caps
from cynco.api.schema import openapi, query_param
from cynco.api.views import ApiView
from cynco.errors import ValidationFailed
from cynco.fields import StrictCharField, StrictIntegerField
from cynco.responses import ok

MAX_CAP_CENTS = 10**15


class CapField(StrictIntegerField):
    def __init__(self, **kwargs):
        super().__init__(min_value=0, max_value=MAX_CAP_CENTS, allow_null=True, **kwargs)


class CustomerCapInput(serializers.Serializer):
    customer = StrictCharField(max_length=255)
    feature = StrictCharField(max_length=100)
    capCents = CapField()


class ProductCapInput(serializers.Serializer):
    scope = StrictChoiceField(choices=["product"])
    productId = StrictCharField(max_length=100)
    featureId = StrictCharField(max_length=100)
    capCents = CapField()


class SpendCapsView(ApiView):
    @openapi("spend_cap_get", summary="A customer's spend cap on a feature's overage",
             query=[query_param("customer", "The customer's external id.", required=True),
                    query_param("feature", "The feature's slug.", required=True)],
             data=SpendCapStatusShape, errors=(404,))
    def get(self, request):
        names = ("customer", "feature")
        missing = [name for name in names if not request.query_params.get(name)]
        if missing:
            raise ValidationFailed(
                "customer and feature are required",
                details=[{"field": name, "message": "This query parameter is required."}
                         for name in missing],
            )
        return ok(spend_cap_status(self.scope, *(request.query_params[n] for n in names)))

    @openapi("spend_cap_set", summary="Set a customer's spend cap, or a product's default",
             description="`capCents: null` removes the cap. With `scope: product` the body is a "
                         "ProductSpendCapInput and sets the default for the product's "
                         "subscribers.",
             input=(CustomerCapInput, ProductCapInput),
             data=(SpendCapStatusShape, ProductSpendCapShape), errors=(404,))
    def post(self, request):
        if isinstance(request.data, dict) and "scope" in request.data:
            values = parsed(ProductCapInput, request)
            product, feature = spend_caps.spend_cap_product_set(
                scope=self.scope, product=values["productId"], feature=values["featureId"],
                cap_cents=values["capCents"],
            )
            return ok({"scope": "product", "productId": product.id, "featureId": feature.slug,
                       "capCents": values["capCents"]})
        values = parsed(CustomerCapInput, request)
        spend_caps.spend_cap_set(scope=self.scope, customer=values["customer"],
                                 feature=values["feature"], cap_cents=values["capCents"])
        return ok(spend_cap_status(self.scope, values["customer"], values["feature"]))

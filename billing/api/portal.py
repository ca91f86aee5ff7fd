"""`GET /portal?customer=X`: a signed link to the customer's billing portal, valid one hour.

Open to secret keys, and to publishable keys the merchant granted the `portal` scope (API.md).
"""

from __future__ import annotations

from django.urls import reverse

from billing.api.shapes.account import PortalLinkShape
from billing.selectors.customers import customer_find
from cynco.api.schema import openapi, query_param
from cynco.api.views import ApiView
from cynco.errors import ValidationFailed
from cynco.links import LinkTarget, absolute_url, make_token
from cynco.permissions import publishable_with_scope
from cynco.responses import ok


def portal_url(customer) -> str:
    """A fresh signed portal link for `customer` (any holder can open it for one hour)."""
    token = make_token(
        LinkTarget("portal", customer.id, customer.merchant_id, customer.environment)
    )
    return absolute_url(reverse("portal-home", args=[token]))


class PortalLinkView(ApiView):
    permission_classes = [publishable_with_scope("portal")]

    @openapi("portal_link_get", summary="A signed link to the customer's billing portal",
             query=[query_param("customer", "The customer's external id.", required=True)],
             data=PortalLinkShape, errors=(404,))
    def get(self, request):
        external_id = request.query_params.get("customer")
        if not external_id:
            raise ValidationFailed.field("customer", "This query parameter is required.")
        return ok({"url": portal_url(customer_find(self.scope, external_id))})

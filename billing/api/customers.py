"""`/customers`: get-or-create, read one, list, update, delete (CustomerState of API.md).

A publishable key may only read one customer (`GET /customers?id=`), and then `email`,
`name`, `metadata` and `paymentMethods` are left out of the answer.
"""

from __future__ import annotations

from rest_framework import serializers

from billing.api.shapes.customers import CustomerStateShape
from billing.selectors.customers import (
    CustomerHoldings,
    customer_find,
    customer_holdings,
    customers_active,
)
from billing.services import customers as customer_services
from billing.services.subscriptions import summary_data
from cynco import clock
from cynco.api.schema import DELETED, PageOf, openapi, query_param
from cynco.api.views import ApiView
from cynco.errors import ValidationFailed
from cynco.fields import StrictCharField, StrictJSONObjectField, usage_number
from cynco.permissions import PublishableAllowed, require_secret
from cynco.responses import ok, page_of, paginated
from cynco.tenancy import Scope
from gateways.selectors import payment_methods_of


class StrictEmailField(serializers.EmailField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class CustomerInput(serializers.Serializer):
    customerId = StrictCharField(max_length=255)
    name = StrictCharField(max_length=200, required=False, allow_null=True, allow_blank=True)
    email = StrictEmailField(max_length=254, required=False, allow_null=True)
    metadata = StrictJSONObjectField(required=False)


def payment_methods_data(customer) -> list[dict]:
    """CustomerState.paymentMethods: the customer's saved cards, the default first."""
    scope = Scope(customer.merchant_id, customer.environment)
    return [
        {"id": method.id, "type": method.type, "last4": method.last4 or None,
         "brand": method.brand or None,
         "expiresAt": f"{method.exp_year:04d}-{method.exp_month:02d}"
         if method.exp_year and method.exp_month else None}
        for method in payment_methods_of(scope=scope, customer_reference=customer.id)
    ]


def customer_state(customer, held: CustomerHoldings, *, public: bool) -> dict:
    balances = {}
    for slug, balance in held.balances.items():
        left = usage_number(balance.balance)
        granted = None if balance.unlimited else usage_number(balance.granted)
        balances[slug] = {
            "balance": left, "remaining": left, "limit": granted,
            "unlimited": balance.unlimited, "granted": granted,
            "usage": usage_number(balance.usage),
        }
    state = {
        "id": customer.id,
        "externalId": customer.external_id,
        "environment": customer.environment,
        "name": customer.name,
        "email": customer.email,
        "metadata": customer.metadata,
        "subscriptions": [summary_data(s) for s in held.subscriptions],
        "balances": balances,
        "flags": held.flags,
        "paymentMethods": [] if public else payment_methods_data(customer),
        "createdAt": customer.created_at,
    }
    if public:
        for private in ("email", "name", "metadata", "paymentMethods"):
            del state[private]
    return state


class CustomersView(ApiView):
    permission_classes = [PublishableAllowed]

    def _states(self, customers) -> list[dict]:
        holdings = customer_holdings(customers, clock.now(self.scope))
        public = not self.request.auth.is_secret
        return [customer_state(c, holdings[c.id], public=public) for c in customers]

    def _input(self, request) -> dict:
        data = CustomerInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "name" in values:
            values["name"] = values["name"] or None
        return values

    @openapi("customers_list", summary="One customer by id, or the list",
             description="With `id`: that customer's CustomerState (publishable keys may do "
                         "only this). Without: the customers, paginated (secret keys).",
             query=[query_param("id", "The customer's external id.")],
             data=(CustomerStateShape, PageOf(CustomerStateShape)), errors=(403, 404))
    def get(self, request):
        external_id = request.query_params.get("id")
        if external_id is not None:
            return ok(self._states([customer_find(self.scope, external_id)])[0])
        require_secret(request, "list customers")
        page = page_of(request)
        customers = customers_active(self.scope)
        return paginated(
            self._states(list(page.slice(customers))), total=customers.count(), page=page
        )

    @openapi("customer_create", summary="Get or create a customer (safe on every login)",
             input=CustomerInput, data=CustomerStateShape, status=(200, 201), secret_only=True)
    def post(self, request):
        require_secret(request, "create customers")
        values = self._input(request)
        customer, created = customer_services.customer_get_or_create(
            scope=self.scope, external_id=values.pop("customerId"), **values
        )
        return ok(self._states([customer])[0], status=201 if created else 200)

    @openapi("customer_update", summary="Update a customer", input=CustomerInput,
             data=CustomerStateShape, errors=(404,), secret_only=True)
    def put(self, request):
        require_secret(request, "update customers")
        values = self._input(request)
        customer = customer_services.customer_update(
            scope=self.scope, external_id=values.pop("customerId"), **values
        )
        return ok(self._states([customer])[0])

    @openapi("customer_delete", summary="Delete a customer",
             query=[query_param("id", "The customer's external id.", required=True)],
             data=DELETED, errors=(404,), secret_only=True)
    def delete(self, request):
        require_secret(request, "delete customers")
        external_id = request.query_params.get("id")
        if not external_id:
            raise ValidationFailed.field("id", "This query parameter is required.")
        customer_services.customer_delete(scope=self.scope, external_id=external_id)
        return ok({"deleted": True})

"""`/plans` and `/components/pricing-table` (publishable keys allowed)."""

from __future__ import annotations

from billing.api.catalog_output import feature_data, price_data
from billing.api.shapes.catalog import PlanShape, PricingTableShape
from billing.selectors.catalog import products_with_terms
from billing.selectors.customers import customer_find
from billing.selectors.plans import Eligibility, plans_eligibility
from cynco import clock
from cynco.api.schema import PageOf, openapi, query_param
from cynco.api.views import ApiView
from cynco.money import format_money
from cynco.permissions import PublishableAllowed
from cynco.responses import ok, page_of, paginated

UNGROUPED = "default"
CUSTOMER_QUERY = [query_param("customer", "A customer's external id: adds what subscribing "
                                          "would be for them (customerEligibility).")]
PLAN_PRICE_KEYS = (
    "id", "name", "amount", "currency", "billingInterval", "billingIntervalCount", "trialDays",
    "setupFee",
)
PLAN_FEATURE_KEYS = ("slug", "name", "type", "allowanceType", "allowance", "unlimited")


def eligibility_data(eligibility: Eligibility | None) -> dict | None:
    if eligibility is None:
        return None
    return {
        "scenario": eligibility.scenario,
        "currentSubscriptionId": eligibility.current_subscription_id,
        "prorationAmount": eligibility.proration_amount,
        "trialAvailable": eligibility.trial_available,
    }


def plan_data(product, eligibility: Eligibility | None) -> dict:
    version = product.latest_version
    return {
        "id": product.id,
        "name": product.name,
        "slug": product.slug,
        "description": product.description,
        "groupSlug": product.group_slug,
        "isDefault": product.is_default,
        "isAddOn": product.is_add_on,
        "sortOrder": product.sort_order,
        "prices": [
            {key: price_data(price)[key] for key in PLAN_PRICE_KEYS}
            for price in version.prices.all()
        ],
        "features": [
            {key: feature_data(grant)[key] for key in PLAN_FEATURE_KEYS}
            for grant in version.feature_grants.all()
        ],
        "customerEligibility": eligibility_data(eligibility),
    }


def table_plan_data(product, eligibility: Eligibility | None, with_customer: bool) -> dict:
    """A PricingTablePlan: prices carry `amountFormatted`, and `trialDays` is null for no
    trial (the client's table would print a stray 0)."""
    plan = plan_data(product, eligibility)
    for price, row in zip(product.latest_version.prices.all(), plan["prices"], strict=True):
        row["amountFormatted"] = format_money(price.amount, price.currency)
        row["trialDays"] = price.trial_days or None
    for row in plan["features"]:
        del row["allowanceType"]
    if with_customer:
        plan["customerEligibility"] = (
            {"scenario": eligibility.scenario} if eligibility else None
        )
    else:
        del plan["customerEligibility"]
    return plan


class CatalogForCustomerView(ApiView):
    permission_classes = [PublishableAllowed]

    def products_and_eligibility(self, request):
        """The scope's plans and, when `?customer=` names a customer, their eligibility."""
        products = list(products_with_terms(self.scope))
        external_id = request.query_params.get("customer")
        if external_id is None:
            return products, None
        customer = customer_find(self.scope, external_id)
        return products, plans_eligibility(customer, products, clock.now(self.scope))


class PlansView(CatalogForCustomerView):
    @openapi("plans_list", summary="Plans, with a customer's eligibility",
             query=CUSTOMER_QUERY, data=PageOf(PlanShape), errors=(404,))
    def get(self, request):
        page = page_of(request)
        products, eligibility = self.products_and_eligibility(request)
        shown = products[page.offset : page.offset + page.limit]
        plans = [plan_data(p, eligibility and eligibility[p.id]) for p in shown]
        return paginated(plans, total=len(products), page=page)


class PricingTableView(CatalogForCustomerView):
    @openapi("pricing_table_get", summary="The pricing table", query=CUSTOMER_QUERY,
             data=PricingTableShape, errors=(404,))
    def get(self, request):
        products, eligibility = self.products_and_eligibility(request)
        with_customer = eligibility is not None
        plans = [
            table_plan_data(p, eligibility and eligibility[p.id], with_customer)
            for p in products
        ]
        groups: dict[str, int] = {}
        for product in products:
            slug = product.group_slug or UNGROUPED
            groups[slug] = groups.get(slug, 0) + 1
        return ok(
            {"plans": plans, "groups": [{"slug": s, "planCount": n} for s, n in groups.items()]}
        )

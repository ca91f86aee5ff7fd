"""`/subscribe`, `/preview`, `/cancel`, `/subscriptions`, `/subscriptions/update` and
`/subscriptions/preview-update` (API.md, Core and Subscriptions)."""

from __future__ import annotations

from billing.api.shapes.customers import SubscriptionRowShape
from billing.api.shapes.subscriptions import (
    CancelResultShape,
    PreviewResultShape,
    SubscribeResultShape,
    SubscriptionUpdateResultShape,
)
from billing.api.subscription_input import (
    CancelInput,
    MultiAttachInput,
    PreviewInput,
    SubscribeInput,
    UpdateInput,
)
from billing.models import Subscription
from billing.selectors.catalog import product_find
from billing.selectors.customers import customer_find
from billing.selectors.subscriptions import subscribe_preview, subscriptions_list
from billing.services.audit import Actor
from billing.services.customers import customer_get_or_create
from billing.services.subscribe import SubscribeOutcome, SubscribeRequest
from billing.services.multi_attach import AttachItem
from billing.services.subscribe_payment import multi_attach_and_pay, subscribe_and_pay
from billing.services.subscription_cancel import cancel_customer
from billing.services.subscription_updates import (
    UpdateRequest,
    subscription_for,
    subscription_update,
    update_plan,
    validate_update,
)
from billing.services.subscriptions import summary_data
from cynco import clock, idempotency
from cynco.api.schema import PageOf, choices_param, openapi
from cynco.api.views import ApiView
from cynco.errors import Forbidden, NotFound, ValidationFailed
from cynco.permissions import PublishableAllowed
from cynco.responses import choices_of, ok, page_of, paginated


def valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def subscribe_data(outcome: SubscribeOutcome) -> dict:
    """SubscribeResult: `url` and `checkoutUrl` only on `checkout`, optional keys left out."""
    data = {"action": outcome.action}
    if outcome.action == "checkout":
        data["url"] = outcome.url or outcome.checkout.url
        data["checkoutUrl"] = outcome.checkout.url
        data["checkoutId"] = outcome.checkout.id
    if outcome.subscription is not None:
        data["subscription"] = summary_data(outcome.subscription)
    if outcome.effective_at is not None:
        data["effectiveAt"] = outcome.effective_at
    if outcome.proration_amount is not None:
        data["prorationAmount"] = outcome.proration_amount
    if outcome.discount_amount is not None:
        data["discountAmount"] = outcome.discount_amount
    if outcome.required_action is not None:
        data["requiredAction"] = outcome.required_action
    return data


def customer_of(scope, customer_ref: dict, publishable: bool):
    """The customer of `customer`: found by id, or created inline (secret keys only)."""
    if customer_ref.get("inline"):
        if publishable:
            raise Forbidden("A publishable key may not create customers")
        customer, _ = customer_get_or_create(
            scope=scope, external_id=customer_ref["id"], name=customer_ref["name"],
            email=customer_ref["email"],
        )
        return customer
    return customer_find(scope, customer_ref["id"])


def product_or_none(scope, ref: str):
    try:
        return product_find(scope, ref)
    except NotFound:
        return None


class MultiAttachView(ApiView):
    idempotency_atomic = False  # commits before the gateway is called

    @openapi("multi_attach", summary="Subscribe to several products at once (all or nothing)",
             description="One checkout or one charge for all of them.",
             input=MultiAttachInput, data=SubscribeResultShape, errors=(404,))
    def post(self, request):
        values = valid(MultiAttachInput, request.data)
        customer = customer_of(self.scope, values["customer"], publishable=False)
        items = [AttachItem(product_or_none(self.scope, item["product"]), item.get("priceId"),
                            item["quantity"]) for item in values["products"]]
        outcome = multi_attach_and_pay(
            scope=self.scope, customer=customer, items=items,
            success_url=values["successUrl"], cancel_url=values["cancelUrl"],
            coupon_code=values.get("couponCode"), metadata=values["metadata"],
            publishable=False, at=clock.now(self.scope),
            actor=Actor.api(request.auth.id), idempotency_key=idempotency.key_from(request),
        )
        return ok(subscribe_data(outcome))


class SubscribeView(ApiView):
    permission_classes = [PublishableAllowed]
    idempotency_atomic = False  # commits before the gateway is called

    @openapi("subscribe", summary="Subscribe a customer to a product",
             description="New plan, upgrade (now, prorated), downgrade (scheduled at period "
                         "end), add-on or one-time purchase. A publishable key only ever gets a "
                         "checkout URL and may not create customers inline.",
             input=SubscribeInput, data=SubscribeResultShape, errors=(403, 404))
    def post(self, request):
        values = valid(SubscribeInput, request.data)
        publishable = not request.auth.is_secret
        customer = customer_of(self.scope, values["customer"], publishable)
        product = product_find(self.scope, values["product"])
        balances, usages = values.get("carryOverBalances"), values.get("carryOverUsages")
        subscribe_request = SubscribeRequest(
            product=product, price_id=values.get("priceId"), quantity=values["quantity"],
            billing_anchor_day=values.get("billingAnchorDay"),
            success_url=values.get("successUrl", ""), cancel_url=values.get("cancelUrl", ""),
            metadata=values["metadata"],
            carry_over_balances=bool(balances and balances["enabled"]),
            carry_over_usages=bool(usages and usages["enabled"]),
            carry_over_feature_ids=(usages or {}).get("featureIds"),
            publishable=publishable or values.get("redirectMode") == "always",
            coupon_code=values.get("couponCode"),
        )
        outcome = subscribe_and_pay(
            scope=self.scope, customer=customer, request=subscribe_request,
            at=clock.now(self.scope), actor=Actor.api(request.auth.id),
            idempotency_key=idempotency.key_from(request),
        )
        return ok(subscribe_data(outcome))


class PreviewView(ApiView):
    @openapi("subscribe_preview", summary="What subscribing would charge (no side effects)",
             input=PreviewInput, data=PreviewResultShape, errors=(404,))
    def post(self, request):
        values = valid(PreviewInput, request.data)
        customer = customer_find(self.scope, values["customer"])
        product = product_find(self.scope, values["product"])
        return ok(subscribe_preview(self.scope, customer, product, values.get("priceId"),
                                    values["quantity"], clock.now(self.scope),
                                    coupon_code=values.get("couponCode")))


class CancelView(ApiView):
    @openapi("cancel", summary="Cancel one product's subscription, or all",
             input=CancelInput, data=CancelResultShape, errors=(404,))
    def post(self, request):
        values = valid(CancelInput, request.data)
        customer = customer_find(self.scope, values["customer"])
        product = product_find(self.scope, values["product"]) if "product" in values else None
        result = cancel_customer(
            scope=self.scope, customer=customer, product=product,
            immediate=values["immediate"], reason=values.get("reason") or "",
            at=clock.now(self.scope), actor=Actor.api(request.auth.id),
        )
        return ok({"canceled": result.canceled, "effectiveAt": result.effective_at})


class SubscriptionsView(ApiView):
    @openapi("subscriptions_list", summary="Subscriptions, newest first",
             query=[choices_param("status", "Only these statuses, e.g. active,trialing",
                                  Subscription.Status.values)],
             data=PageOf(SubscriptionRowShape))
    def get(self, request):
        page = page_of(request)
        statuses = choices_of(request, "status", Subscription.Status.values)
        rows = subscriptions_list(self.scope, statuses or None)
        items = [{**summary_data(s), "customerId": s.customer_id} for s in page.slice(rows)]
        return paginated(items, total=rows.count(), page=page)


def update_request(values: dict) -> UpdateRequest:
    if values.get("featureQuantities"):
        raise ValidationFailed.field(
            "featureQuantities", "Not supported: change `quantity` of a per-seat price.")
    request = UpdateRequest(
        cancel_action=values.get("cancelAction"), pause_action=values.get("pauseAction"),
        resume_at=values.get("resumeAt"), quantity=values.get("quantity"),
        prorate=values["prorationBehavior"] == "prorate",
    )
    validate_update(request)
    return request


def update_data(subscription, plan, *, updated: bool) -> dict:
    data = {
        "updated": updated,
        "action": plan.action if updated else "preview",
        "subscription": {"id": subscription.id, "status": subscription.status,
                         "productSlug": subscription.product.slug,
                         "quantity": subscription.quantity},
        "lineItems": plan.line_items,
        "total": plan.total,
    }
    if plan.refund_amount is not None:
        data["refundAmount"] = plan.refund_amount
    if plan.effective_at is not None:
        data["effectiveAt"] = plan.effective_at
    return data


class UpdateViewBase(ApiView):
    def change_of(self, request):
        """(customer, product, UpdateRequest) of a valid update body."""
        values = valid(UpdateInput, request.data)
        change = update_request(values)
        customer = customer_find(self.scope, values["customer"])
        return customer, product_find(self.scope, values["product"]), change


class SubscriptionUpdateView(UpdateViewBase):
    @openapi("subscription_update", summary="Cancel, uncancel, pause, resume or change quantity",
             description="`cancel_immediately` ends access now and refunds the unused part of "
                         "the period (`refundAmount`).",
             input=UpdateInput, data=SubscriptionUpdateResultShape, errors=(404,))
    def post(self, request):
        customer, product, change = self.change_of(request)
        subscription, plan = subscription_update(
            scope=self.scope, customer=customer, product=product, request=change,
            at=clock.now(self.scope), actor=Actor.api(request.auth.id),
        )
        return ok(update_data(subscription, plan, updated=True))


class SubscriptionPreviewUpdateView(UpdateViewBase):
    @openapi("subscription_preview_update", summary="What an update would do (no side effects)",
             input=UpdateInput, data=SubscriptionUpdateResultShape, errors=(404,))
    def post(self, request):
        customer, product, change = self.change_of(request)
        subscription = subscription_for(customer, product)
        plan = update_plan(subscription, change, clock.now(self.scope))
        return ok(update_data(subscription, plan, updated=False))

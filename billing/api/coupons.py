"""`/coupons`: create, list, read, update, archive (secret keys), and validate (any key).

`archiveCoupon` of the 0.2 client sends PATCH `{status: "archived"}` and gets the Coupon back;
0.3+ sends DELETE and gets `{archived: true}`. Both archive.
"""

from __future__ import annotations

from django.db.models import Q

from billing.api.actors import actor_of
from billing.api.coupon_input import CouponCreateInput, CouponUpdateInput, CouponValidateInput
from billing.api.shapes.promotions import ArchivedShape, CouponShape, CouponValidationShape
from billing.models import Coupon, Product
from billing.selectors.coupons import coupon_get, coupon_parties, coupons_of
from billing.services import coupons as coupon_services
from cynco import clock
from cynco.api.schema import PageOf, openapi
from cynco.api.views import ApiView
from cynco.errors import ValidationFailed
from cynco.permissions import PublishableAllowed
from cynco.responses import ok, page_of, paginated
from cynco.tenancy import Scope

# Wire name -> keyword of the services.
WIRE_NAMES = {
    "code": "code", "name": "name", "type": "type", "value": "value", "duration": "duration",
    "durationMonths": "duration_months", "maxRedemptions": "max_redemptions",
    "maxRedemptionsPerCustomer": "max_redemptions_per_customer",
    "minimumAmount": "minimum_amount", "validFrom": "valid_from", "validUntil": "valid_until",
    "metadata": "metadata", "status": "status",
}


def coupon_data(coupon: Coupon) -> dict:
    """The client's `Coupon`, plus minimumAmount, productIds, customerId and updatedAt."""
    return {
        "id": coupon.id,
        "code": coupon.code,
        "name": coupon.name,
        "type": coupon.type,
        "value": coupon.value,
        "duration": coupon.duration,
        "durationMonths": coupon.duration_months,
        "redemptionCount": coupon.times_redeemed,
        "maxRedemptions": coupon.max_redemptions,
        "maxRedemptionsPerCustomer": coupon.max_redemptions_per_customer,
        "minimumAmount": coupon.minimum_amount,
        "productIds": sorted(p.id for p in coupon.products.all()),
        "customerId": coupon.customer_id,
        "status": coupon.status,
        "validFrom": coupon.valid_from,
        "validUntil": coupon.valid_until,
        "metadata": coupon.metadata,
        "createdAt": coupon.created_at,
        "updatedAt": coupon.updated_at,
    }


def _services_kwargs(values: dict) -> dict:
    kwargs = {WIRE_NAMES[name]: value for name, value in values.items() if name in WIRE_NAMES}
    if "name" in kwargs:
        kwargs["name"] = kwargs["name"] or None
    return kwargs


def restricted_products(scope: Scope, refs: list[str]) -> list[Product]:
    """The products named by id or slug in `productIds`; 422 naming each unknown one."""
    found = Product.objects.for_scope(scope).filter(Q(pk__in=refs) | Q(slug__in=refs))
    by_ref = {ref: p for p in found for ref in (p.pk, p.slug)}
    unknown = [
        {"field": f"productIds[{index}]", "message": f"No product '{ref}'."}
        for index, ref in enumerate(refs) if ref not in by_ref
    ]
    if unknown:
        raise ValidationFailed(unknown[0]["message"], details=unknown)
    return list({by_ref[ref].pk: by_ref[ref] for ref in refs}.values())


class CouponsView(ApiView):
    @openapi("coupon_create", summary="Create a coupon", input=CouponCreateInput,
             data=CouponShape, status=201)
    def post(self, request):
        data = CouponCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        products = restricted_products(self.scope, values.pop("productIds", []))
        coupon = coupon_services.coupon_create(
            scope=self.scope, products=products, actor=actor_of(request),
            **_services_kwargs(values),
        )
        return ok(coupon_data(coupon_get(self.scope, coupon.id)), status=201)

    @openapi("coupons_list", summary="Coupons", data=PageOf(CouponShape))
    def get(self, request):
        page = page_of(request)
        coupons = coupons_of(self.scope)
        return paginated(
            [coupon_data(c) for c in page.slice(coupons)], total=coupons.count(), page=page
        )


class CouponView(ApiView):
    @openapi("coupon_get", summary="One coupon", data=CouponShape, errors=(404,))
    def get(self, request, coupon_id):
        return ok(coupon_data(coupon_get(self.scope, coupon_id)))

    @openapi("coupon_update", summary="Change a coupon's name, status, limits or end",
             description="`status: archived` archives it, as DELETE does. The code, type, "
                         "value, duration, products and start cannot change (422).",
             input=CouponUpdateInput, data=CouponShape, errors=(404,))
    def patch(self, request, coupon_id):
        data = CouponUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        coupon = coupon_services.coupon_update(
            scope=self.scope, coupon_id=coupon_id, actor=actor_of(request),
            **_services_kwargs(data.validated_data),
        )
        return ok(coupon_data(coupon))

    @openapi("coupon_archive", summary="Archive a coupon",
             description="Subscriptions it already discounts keep their discount.",
             data=ArchivedShape, errors=(404,))
    def delete(self, request, coupon_id):
        coupon_services.coupon_archive(
            scope=self.scope, coupon_id=coupon_id, actor=actor_of(request)
        )
        return ok({"archived": True})


class CouponValidateView(ApiView):
    """Open to publishable keys: the React hook `useValidateCoupon` calls it from a browser.

    An unusable code is a 200 with `valid: false` and a `message` (shown to the customer), not
    an HTTP error; so is an unknown product. An unknown customer is one not created yet.
    """

    permission_classes = [PublishableAllowed]

    @openapi("coupon_validate", summary="Would this code discount this purchase?",
             input=CouponValidateInput, data=CouponValidationShape)
    def post(self, request):
        data = CouponValidateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        customer, product = coupon_parties(self.scope, values["customer"], values["product"])
        quote = coupon_services.coupon_validate(
            scope=self.scope, code=values["code"], customer=customer, product=product,
            amount=values["amount"], at=clock.now(self.scope),
        )
        if not quote.valid:
            return ok({"valid": False, "message": quote.message})
        return ok({
            "valid": True,
            "discountAmount": quote.discount_amount,
            "finalAmount": quote.final_amount,
            "couponType": quote.coupon.type,
            "duration": quote.coupon.duration,
        })

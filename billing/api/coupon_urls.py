"""Routes of coupons (`validate` before `{id}`, so it is never read as an id)."""

from django.urls import path

from billing.api.coupons import CouponsView, CouponValidateView, CouponView

urlpatterns = [
    path("coupons", CouponsView.as_view(), name="coupons"),
    path("coupons/validate", CouponValidateView.as_view(), name="coupon-validate"),
    path("coupons/<str:coupon_id>", CouponView.as_view(), name="coupon"),
]

"""Reads of coupons: by id, by code (any case), and the scope's list."""

from __future__ import annotations

from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Lower

from billing.models import Coupon, Customer, Product
from cynco.errors import NotFound
from cynco.tenancy import Scope


def coupons_of(scope: Scope) -> QuerySet[Coupon]:
    """The scope's coupons, newest first, with their product restrictions loaded."""
    return Coupon.objects.for_scope(scope).prefetch_related("products").order_by(
        "-created_at", "-id"
    )


def coupon_get(scope: Scope, coupon_id: str) -> Coupon:
    """The coupon `coupon_id` of this scope; NotFound (404) otherwise."""
    coupon = coupons_of(scope).filter(pk=coupon_id).first()
    if coupon is None:
        raise NotFound(f"No coupon '{coupon_id}'")
    return coupon


def coupon_by_code(scope: Scope, code: str) -> Coupon | None:
    """The coupon whose code is `code` in any case, or None (PostgreSQL lowers both sides,
    as the unique index does)."""
    return (
        Coupon.objects.for_scope(scope)
        .alias(code_ci=Lower("code"))
        .filter(code_ci=Lower(Value(code)))
        .first()
    )


def coupon_parties(
    scope: Scope, customer_ref: str, product_ref: str
) -> tuple[Customer | None, Product | None]:
    """The customer (by external id) and active product (by id or slug) a coupon is checked
    for; None for either that does not exist (validating never raises for them)."""
    customer = (
        Customer.objects.for_scope(scope).active().filter(external_id=customer_ref).first()
    )
    product = (
        Product.objects.for_scope(scope).filter(status=Product.Status.ACTIVE)
        .filter(Q(pk=product_ref) | Q(slug=product_ref)).first()
    )
    return customer, product

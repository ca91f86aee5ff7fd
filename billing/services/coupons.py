"""Writes of coupons: create, update, archive; validate (no side effects); redeem; apply.

The subscriptions side calls `coupon_redeem` inside its subscribe transaction (after taking the
customer's lock) and `coupon_redemption_apply` on every invoice of that subscription; see
docs/coupons.md. No coupon service posts a ledger entry: the discount is posted (DR 4900) by the
invoice it reduces.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F

from billing import discounts
from billing.models import Coupon, CouponRedemption, Customer, Product
from billing.selectors.coupons import coupon_by_code, coupon_get
from billing.services.audit import Actor, audit_record
from cynco.errors import Conflict, ValidationFailed
from cynco.locks import lock_customer
from cynco.tenancy import Scope

UNSET = object()

# Why a coupon does not apply, and what the customer is told (API.md: `message`).
REFUSALS = {
    "unknown": "Coupon not found",
    "archived": "Coupon is no longer active",
    "not_yet_valid": "Coupon is not valid yet",
    "expired": "Coupon has expired",
    "product_unknown": "Product not found",
    "product_not_eligible": "Coupon does not apply to this product",
    "below_minimum": "Amount is below the coupon's minimum of {minimum}",
    "limit_reached": "Coupon has reached its redemption limit",
    "customer_limit_reached": "Coupon was already used by this customer",
}


class CouponNotApplicable(ValidationFailed):
    """A coupon code that cannot be redeemed here: 422 on `field` (`couponCode` on subscribe)."""

    def __init__(self, reason: str, message: str, *, field: str = "couponCode"):
        super().__init__(message, details=[{"field": field, "message": message}])
        self.reason = reason


@dataclass(frozen=True)
class CouponQuote:
    """What validating a code answered. `reason` is a key of REFUSALS when not `valid`."""

    valid: bool
    coupon: Coupon | None = None
    reason: str | None = None
    message: str | None = None
    amount: int = 0
    discount_amount: int = 0
    trial_extension_days: int = 0

    @property
    def final_amount(self) -> int:
        return self.amount - self.discount_amount


def coupon_create(
    *, scope: Scope, code: str, type: str, value: int, duration: str,
    duration_months: int | None = None, name: str | None = None,
    max_redemptions: int | None = None, max_redemptions_per_customer: int = 1,
    minimum_amount: int | None = None, products: list[Product] | tuple = (),
    valid_from: datetime | None = None, valid_until: datetime | None = None,
    metadata: dict | None = None, customer: Customer | None = None, actor: Actor,
) -> Coupon:
    """A new active coupon. Raises Conflict (409, on `code`) when the code is taken in any case.

    Takes no lock; the case-insensitive unique index decides between concurrent creations.
    Audits `coupon.created`. Posts no ledger entry.
    """
    with code_unique("coupon_code_unique_ci", f"A coupon with code '{code}' already exists"):
        with transaction.atomic():
            coupon = Coupon.objects.create(
                merchant_id=scope.merchant_id, environment=scope.environment, code=code,
                name=name, type=type, value=value, duration=duration,
                duration_months=duration_months if duration == "repeating" else None,
                max_redemptions=max_redemptions,
                max_redemptions_per_customer=max_redemptions_per_customer,
                minimum_amount=minimum_amount, valid_from=valid_from, valid_until=valid_until,
                metadata=metadata or {}, customer=customer,
            )
            coupon.products.set(products)
            _audit(scope, "coupon.created", actor, coupon, {
                "code": code, "type": type, "value": value, "duration": duration})
    return coupon


@contextmanager
def code_unique(constraint: str, message: str):
    """Turn a violation of the unique index `constraint` on a code into 409 on `code`."""
    try:
        yield
    except IntegrityError as exc:
        if constraint not in str(exc):
            raise
        raise Conflict(message, details=[{"field": "code", "message": message}]) from exc


def coupon_update(
    *, scope: Scope, coupon_id: str, name=UNSET, status=UNSET, max_redemptions=UNSET,
    max_redemptions_per_customer=UNSET, valid_until=UNSET, metadata=UNSET, actor: Actor,
) -> Coupon:
    """Change the given fields of a coupon (None clears name, maxRedemptions, validUntil).

    Locks the coupon row, so a new maxRedemptions is checked against the redemptions made so
    far with no redemption slipping in between: it may not go below them (422). Takes no
    customer lock. Audits `coupon.updated` (`coupon.archived` when it archives); posts no
    ledger entry. Raises NotFound.
    """
    with transaction.atomic():
        coupon = coupon_get(scope, coupon_id)
        coupon = Coupon.objects.select_for_update().get(pk=coupon.pk)
        changes = {
            "name": name, "status": status, "max_redemptions": max_redemptions,
            "max_redemptions_per_customer": max_redemptions_per_customer,
            "valid_until": valid_until, "metadata": metadata,
        }
        changed = {field: value for field, value in changes.items() if value is not UNSET}
        if changed.get("max_redemptions") is not None and (
            changed["max_redemptions"] < coupon.times_redeemed
        ):
            raise ValidationFailed.field(
                "maxRedemptions",
                f"Must be at least {coupon.times_redeemed}, the redemptions made so far.",
            )
        until = changed.get("valid_until")
        if until is not None and coupon.valid_from is not None and until <= coupon.valid_from:
            raise ValidationFailed.field("validUntil", "Must be after validFrom.")
        if "metadata" in changed:
            changed["metadata"] = changed["metadata"] or {}
        for field, value in changed.items():
            setattr(coupon, field, value)
        if changed:
            coupon.save(update_fields=[*changed, "updated_at"])
            event = "coupon.archived" if changed.get("status") == "archived" else "coupon.updated"
            _audit(scope, event, actor, coupon, {
                "changed": sorted(changed),
                **({"status": changed["status"]} if "status" in changed else {}),
            })
    return coupon_get(scope, coupon_id)


def coupon_archive(*, scope: Scope, coupon_id: str, actor: Actor) -> Coupon:
    """Archive a coupon: it stops validating and redeeming at once; redemptions already made
    keep discounting their subscriptions. Archiving twice is harmless. Raises NotFound."""
    return coupon_update(
        scope=scope, coupon_id=coupon_id, status=Coupon.Status.ARCHIVED, actor=actor
    )


def coupon_validate(
    *, scope: Scope, code: str, customer: Customer | None, product: Product | None,
    amount: int, at: datetime,
) -> CouponQuote:
    """Whether `code` would apply to `amount` of `product` for `customer` at `at`, and what it
    would take off. No side effects and no locks.

    `customer` None is a customer not created yet (they have used nothing). `product` None is
    a product that does not exist: never valid.
    """
    coupon = coupon_by_code(scope, code)
    used = 0
    if coupon is not None and customer is not None:
        used = coupon.redemptions.filter(customer=customer).count()
    return _quote(coupon, customer=customer, product=product, amount=amount, at=at, used=used)


def coupon_redeem(
    *, scope: Scope, code: str, customer: Customer, product: Product | None, amount: int,
    subscription_id: str | None = None, at: datetime, interval: str | None = "month",
    interval_count: int = 1, actor: Actor,
) -> CouponRedemption:
    """Redeem `code` for `customer` buying `amount` of `product` billed every `interval_count`
    `interval`s (None: a one-time purchase, discounted once).

    Call it inside the transaction that subscribes (it joins it). Takes lock_customer (a no-op
    when the caller holds it, as subscribe does), which makes the per-customer limit exact;
    then locks the coupon row (SELECT … FOR UPDATE), which makes the global limit exact across
    customers. Raises CouponNotApplicable (422 on couponCode) with the reason. Audits
    `coupon.redeemed`. Posts no ledger entry; the invoices that apply the redemption do.
    """
    with transaction.atomic():
        lock_customer(customer.id)
        coupon = coupon_by_code(scope, code)
        if coupon is not None:
            coupon = Coupon.objects.select_for_update().get(pk=coupon.pk)
        used = 0 if coupon is None else coupon.redemptions.filter(customer=customer).count()
        quote = _quote(coupon, customer=customer, product=product, amount=amount, at=at, used=used)
        if not quote.valid:
            raise CouponNotApplicable(quote.reason, quote.message)
        Coupon.objects.filter(pk=coupon.pk).update(
            times_redeemed=F("times_redeemed") + 1, updated_at=at
        )
        limit = (
            1 if interval is None
            else discounts.cycle_limit(
                coupon.duration, coupon.duration_months, interval, interval_count
            )
        )
        redemption = CouponRedemption.objects.create(
            merchant_id=scope.merchant_id, environment=scope.environment, coupon=coupon,
            customer=customer, product=product, subscription_id=subscription_id, amount=amount,
            discount_amount=quote.discount_amount,
            trial_extension_days=quote.trial_extension_days, cycle_limit=limit, created_at=at,
        )
        audit_record(
            scope=scope, event="coupon.redeemed", actor=actor, customer_id=customer.id,
            subscription_id=subscription_id, resource_type="coupon", resource_id=coupon.id,
            details={"code": coupon.code, "redemptionId": redemption.id, "amount": amount,
                     "discountAmount": quote.discount_amount, "cycleLimit": limit},
        )
        return redemption


def coupon_redemption_release(*, scope: Scope, redemption_id: str, at: datetime,
                              actor: Actor, reason: str) -> bool:
    """Give back a redemption whose purchase never happened (its checkout was abandoned or
    expired): the row goes and the coupon's count drops, so the code may be used again
    within its limits. Audits `coupon.released`. Caller's transaction and customer lock (the
    coupon row is locked after it, the order coupon_redeem takes). False if it is gone."""
    redemption = CouponRedemption.objects.for_scope(scope).filter(pk=redemption_id).first()
    if redemption is None:
        return False
    Coupon.objects.filter(pk=redemption.coupon_id).update(
        times_redeemed=F("times_redeemed") - 1, updated_at=at)
    redemption.delete()
    audit_record(
        scope=scope, event="coupon.released", actor=actor, customer_id=redemption.customer_id,
        subscription_id=redemption.subscription_id, resource_type="coupon",
        resource_id=redemption.coupon_id,
        details={"redemptionId": redemption_id, "reason": reason},
    )
    return True


def coupon_redemption_apply(*, scope: Scope, redemption_id: str, amount: int) -> int:
    """The discount a redemption gives the next invoice of `amount`, counted as one cycle;
    0 once its cycles are used up (or for a trial extension).

    For the invoicing side, inside its invoice transaction under the customer's lock; the
    redemption row is locked too, so an invoice is never discounted twice for one cycle by
    concurrent callers. Posts no ledger entry itself: the invoice posts DR 4900 for it.
    """
    with transaction.atomic():
        redemption = (
            CouponRedemption.objects.for_scope(scope).select_for_update()
            .select_related("coupon").get(pk=redemption_id)
        )
        cycle = redemption.cycles_applied + 1
        if redemption.cycle_limit is not None and cycle > redemption.cycle_limit:
            return 0
        coupon = redemption.coupon
        discount = discounts.discount_amount(coupon.type, coupon.value, amount)
        redemption.cycles_applied = cycle
        redemption.amount_discounted += discount
        redemption.save(update_fields=["cycles_applied", "amount_discounted"])
        return discount


def _audit(scope: Scope, event: str, actor: Actor, coupon: Coupon, details: dict) -> None:
    audit_record(
        scope=scope, event=event, actor=actor, customer_id=coupon.customer_id,
        resource_type="coupon", resource_id=coupon.id, details=details,
    )


def _quote(
    coupon: Coupon | None, *, customer: Customer | None, product: Product | None, amount: int,
    at: datetime, used: int,
) -> CouponQuote:
    reason = _refusal(coupon, customer=customer, product=product, amount=amount, at=at, used=used)
    if reason is not None:
        message = REFUSALS[reason].format(minimum=coupon.minimum_amount if coupon else None)
        return CouponQuote(valid=False, coupon=coupon, reason=reason, message=message,
                           amount=amount)
    result = discounts.discounted(coupon.type, coupon.value, amount)
    return CouponQuote(
        valid=True, coupon=coupon, amount=amount, discount_amount=result.discount,
        trial_extension_days=discounts.trial_extension_days(coupon.type, coupon.value),
    )


def _refusal(
    coupon: Coupon | None, *, customer: Customer | None, product: Product | None, amount: int,
    at: datetime, used: int,
) -> str | None:
    """The first reason `coupon` does not apply, or None when it does."""
    if coupon is None or (coupon.customer_id and (
        customer is None or coupon.customer_id != customer.id
    )):
        return "unknown"  # another customer's reward coupon is not revealed
    if coupon.status != Coupon.Status.ACTIVE:
        return "archived"
    if coupon.valid_from is not None and at < coupon.valid_from:
        return "not_yet_valid"
    if coupon.valid_until is not None and at >= coupon.valid_until:
        return "expired"
    if product is None:
        return "product_unknown"
    restricted = {p.pk for p in coupon.products.all()}
    if restricted and product.pk not in restricted:
        return "product_not_eligible"
    if coupon.minimum_amount is not None and amount < coupon.minimum_amount:
        return "below_minimum"
    if coupon.max_redemptions is not None and coupon.times_redeemed >= coupon.max_redemptions:
        return "limit_reached"
    if used >= coupon.max_redemptions_per_customer:
        return "customer_limit_reached"
    return None

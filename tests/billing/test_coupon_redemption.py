"""Redeeming coupons as the subscribe flow will: limits hold exactly, even under concurrency,
and each invoice takes the discount for as many cycles as the coupon lasts."""

from datetime import timedelta

import pytest
from django.db import transaction

from billing.models import AuditEvent, Coupon, CouponRedemption, Customer, Product
from billing.services.coupons import (
    CouponNotApplicable,
    coupon_archive,
    coupon_redeem,
    coupon_redemption_apply,
)
from billing.services.audit import SYSTEM
from cynco import clock
from cynco.tenancy import Scope
from tests.billing.catalog import CUSTOMERS, PRO, define
from tests.billing.test_coupons import COUPONS, SAVE20
from tests.factories import Api, data_of, make_merchant
from tests.threads import race


def _shop(coupon: dict, customers: int):
    keys = make_merchant()
    api = Api(keys.secret_test)
    define(api, PRO)
    coupon_id = data_of(api.post(COUPONS, coupon), 201)["id"]
    for n in range(customers):
        data_of(api.post(CUSTOMERS, {"customerId": f"user_{n}"}), 201)
    scope = Scope(keys.merchant.id, "test")
    return scope, coupon_id, list(Customer.objects.for_scope(scope).order_by("external_id"))


def _redeem(scope, customer, code="SAVE20", **extra):
    with transaction.atomic():  # as subscribe runs it: inside its own transaction
        return coupon_redeem(
            scope=scope, code=code, customer=customer,
            product=Product.objects.for_scope(scope).get(slug="pro"), amount=2000,
            subscription_id=extra.pop("subscription_id", "psub_1"), at=clock.now(scope),
            actor=SYSTEM, **extra,
        )


def _race(attempts):
    """The outcome of each attempt: its redemption, or the refusal's reason."""
    return [o.reason if isinstance(o, CouponNotApplicable) else o
            for o in race(attempts, refusals=(CouponNotApplicable,))]


@pytest.mark.django_db(transaction=True)
def test_twenty_customers_racing_for_five_redemptions_get_exactly_five():
    scope, coupon_id, customers = _shop({**SAVE20, "maxRedemptions": 5}, customers=20)
    outcomes = _race([lambda c=c: _redeem(scope, c) for c in customers])
    won = [o for o in outcomes if isinstance(o, CouponRedemption)]
    assert len(won) == 5
    assert sorted(o for o in outcomes if not isinstance(o, CouponRedemption)) == [
        "limit_reached"] * 15
    assert Coupon.objects.get(pk=coupon_id).times_redeemed == 5
    assert CouponRedemption.objects.filter(coupon_id=coupon_id).count() == 5


@pytest.mark.django_db(transaction=True)
def test_one_customer_racing_themselves_gets_only_their_two():
    scope, coupon_id, (customer,) = _shop({**SAVE20, "maxRedemptionsPerCustomer": 2}, 1)
    outcomes = _race([lambda: _redeem(scope, customer) for _ in range(10)])
    assert sum(isinstance(o, CouponRedemption) for o in outcomes) == 2
    assert sorted(o for o in outcomes if isinstance(o, str)) == ["customer_limit_reached"] * 8
    assert CouponRedemption.objects.filter(customer=customer).count() == 2
    assert Coupon.objects.get(pk=coupon_id).times_redeemed == 2


@pytest.mark.django_db(transaction=True)
def test_an_archive_racing_redemptions_leaves_every_count_true():
    scope, coupon_id, customers = _shop(SAVE20, customers=8)
    outcomes = _race(
        [lambda c=c: _redeem(scope, c) for c in customers]
        + [lambda: coupon_archive(scope=scope, coupon_id=coupon_id, actor=SYSTEM)]
    )
    redeemed = sum(isinstance(o, CouponRedemption) for o in outcomes)
    assert isinstance(outcomes[-1], Coupon)
    assert sorted(o for o in outcomes[:-1] if isinstance(o, str)) == ["archived"] * (8 - redeemed)
    assert Coupon.objects.get(pk=coupon_id).times_redeemed == redeemed
    assert CouponRedemption.objects.count() == redeemed


@pytest.mark.django_db
def test_a_redemption_records_the_discount_and_how_long_it_lasts():
    scope, coupon_id, (customer,) = _shop(
        {**SAVE20, "duration": "repeating", "durationMonths": 3}, 1)
    redemption = _redeem(scope, customer, subscription_id="psub_42")
    assert (redemption.discount_amount, redemption.amount, redemption.cycle_limit) == (
        400, 2000, 3)
    assert redemption.subscription_id == "psub_42" and redemption.cycles_applied == 0
    audit = AuditEvent.objects.get(event="coupon.redeemed")
    assert (audit.customer_id, audit.subscription_id, audit.resource_id, audit.actor_type) == (
        customer.id, "psub_42", coupon_id, "system")
    # Each invoice of the subscription asks for its discount: three months of 20% off.
    discounts = [coupon_redemption_apply(scope=scope, redemption_id=redemption.id, amount=2000)
                 for _ in range(5)]
    assert discounts == [400, 400, 400, 0, 0]
    redemption.refresh_from_db()
    assert (redemption.cycles_applied, redemption.amount_discounted) == (3, 1200)


@pytest.mark.django_db
def test_a_yearly_plan_gets_a_three_month_coupon_once_and_a_purchase_once():
    scope, _, (first, second) = _shop({**SAVE20, "duration": "repeating",
                                       "durationMonths": 3, "maxRedemptionsPerCustomer": 2}, 2)
    assert _redeem(scope, first, interval="year").cycle_limit == 1
    assert _redeem(scope, second, interval=None).cycle_limit == 1
    assert _redeem(scope, second, interval="week").cycle_limit == 13


@pytest.mark.django_db
def test_a_trial_extension_redemption_carries_its_days():
    scope, _, (customer,) = _shop(
        {"code": "EXTRA7", "type": "trial_extension", "value": 7, "duration": "once"}, 1)
    redemption = _redeem(scope, customer, code="extra7")
    assert (redemption.trial_extension_days, redemption.discount_amount) == (7, 0)


@pytest.mark.django_db
def test_a_refused_redemption_writes_nothing():
    scope, coupon_id, (customer,) = _shop({**SAVE20, "minimumAmount": 5000}, 1)
    with pytest.raises(CouponNotApplicable) as refusal:
        _redeem(scope, customer)
    assert refusal.value.reason == "below_minimum"
    assert refusal.value.details == [
        {"field": "couponCode", "message": "Amount is below the coupon's minimum of 5000"}]
    assert not CouponRedemption.objects.exists()
    assert Coupon.objects.get(pk=coupon_id).times_redeemed == 0


@pytest.mark.django_db
def test_a_coupon_past_its_window_cannot_be_redeemed():
    scope, coupon_id, (customer,) = _shop(SAVE20, 1)
    Coupon.objects.filter(pk=coupon_id).update(
        valid_until=clock.now(scope) - timedelta(minutes=1))
    with pytest.raises(CouponNotApplicable) as refusal:
        _redeem(scope, customer)
    assert refusal.value.reason == "expired"

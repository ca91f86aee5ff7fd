"""Unfinished checkouts: canceled when replaced or canceled, expired after
CHECKOUT_EXPIRY_HOURS (never while 3-D Secure is pending), their waiting subscription ended and
their coupon redemption given back; a payment that lands on a canceled checkout starts nothing
and is reported for a refund."""

from datetime import timedelta

import pytest

from billing import tasks
from billing.models import AuditEvent, Checkout, Coupon, CouponRedemption, Subscription
from billing.services.checkouts import checkout_fulfil
from cynco import clock
from cynco.tenancy import Scope
from tests.billing.subscribing import (
    CANCEL, THREE_DS_CARD, advance, complete_path, customer, invoices, main_catalog, subscribe,
)
from tests.factories import data_of

pytestmark = pytest.mark.django_db(transaction=True)
COUPONS = "/api/v1/pay/coupons"
HOUR = 3600


@pytest.fixture
def shop(api):
    main_catalog(api)
    customer(api)
    data_of(api.post(COUPONS, {"code": "ONLY1", "type": "percentage", "value": 20,
                               "duration": "once", "maxRedemptions": 1}), 201)


def times_redeemed() -> int:
    return Coupon.objects.get(code="ONLY1").times_redeemed


def complete(api, checkout_id, card="4242424242424242"):
    return data_of(api.post(complete_path(checkout_id), {"card": card}))


def test_an_open_checkout_expires_after_a_day_and_gives_its_coupon_back(api, shop):
    started = subscribe(api, "pro", couponCode="ONLY1")
    assert started["action"] == "checkout" and times_redeemed() == 1

    assert advance(api, 23 * HOUR)["ran"]["checkoutExpiries"] == 0
    assert Checkout.objects.get().status == "open"
    assert advance(api, 2 * HOUR)["ran"]["checkoutExpiries"] == 1

    checkout = Checkout.objects.get()
    assert (checkout.status, checkout.failure_code) == ("canceled", "expired")
    assert Subscription.objects.get(checkout=checkout).status == "expired"
    assert times_redeemed() == 0 and not CouponRedemption.objects.exists()
    assert complete(api, started["checkoutId"])["status"] == "failed"
    assert invoices(api) == []
    events = set(AuditEvent.objects.values_list("event", flat=True))
    assert {"checkout.expired", "coupon.released"} <= events

    # The code can be used again, and a new subscribe makes a new checkout.
    again = subscribe(api, "pro", couponCode="ONLY1")
    assert again["action"] == "checkout" and again["checkoutId"] != started["checkoutId"]
    assert complete(api, again["checkoutId"])["status"] == "completed"
    assert times_redeemed() == 1


def test_a_checkout_waiting_for_3ds_is_not_expired(api, shop):
    started = subscribe(api, "pro")
    assert complete(api, started["checkoutId"], THREE_DS_CARD)["status"] == "requires_action"
    assert advance(api, 30 * HOUR)["ran"]["checkoutExpiries"] == 0
    assert Checkout.objects.get().status == "requires_action"


def test_a_declined_checkout_expires_too(api, shop):
    started = subscribe(api, "pro")
    assert complete(api, started["checkoutId"], "4000000000000002")["status"] == "failed"
    assert advance(api, 25 * HOUR)["ran"]["checkoutExpiries"] == 1


def test_subscribing_to_another_plan_of_the_group_releases_the_first_checkouts_coupon(api,
                                                                                    shop):
    pro = subscribe(api, "pro", couponCode="ONLY1")
    assert times_redeemed() == 1
    enterprise = subscribe(api, "enterprise")
    assert enterprise["action"] == "checkout"
    assert times_redeemed() == 0
    statuses = sorted(Checkout.objects.values_list("status", flat=True))
    assert statuses == ["canceled", "open"]
    # Paying both pages cannot leave the customer with two plans of one group.
    assert complete(api, pro["checkoutId"])["status"] == "failed"
    assert complete(api, enterprise["checkoutId"])["status"] == "completed"
    assert sorted(Subscription.objects.filter(status="active")
                  .values_list("product__slug", flat=True)) == ["enterprise"]


def test_canceling_a_waiting_subscription_releases_its_coupon(api, shop):
    subscribe(api, "pro", couponCode="ONLY1")
    data_of(api.post(CANCEL, {"customer": "user_1", "product": "pro"}))
    assert times_redeemed() == 0
    assert Checkout.objects.get().status == "canceled"


def test_the_beat_task_expires_at_each_environments_own_clock(api, shop, merchant):
    subscribe(api, "pro", couponCode="ONLY1")
    scope = Scope(merchant.merchant.id, "test")
    assert tasks.expire_checkouts() == 0
    clock.advance(scope=scope, seconds=25 * HOUR)  # the clock only: no job runs
    assert tasks.expire_checkouts() == 1
    assert times_redeemed() == 0


def test_a_payment_landing_on_a_canceled_checkout_starts_nothing_and_is_reported(api, shop,
                                                                               merchant):
    started = subscribe(api, "pro")
    advance(api, 25 * HOUR)
    scope = Scope(merchant.merchant.id, "test")
    checkout = checkout_fulfil(scope=scope, checkout_id=started["checkoutId"],
                               payment_id="late_payment_1", gateway="sandbox")
    assert checkout.status == "canceled"
    assert not Subscription.objects.filter(status__in=["active", "trialing"],
                                           product__slug="pro").exists()
    assert invoices(api) == []
    report = AuditEvent.objects.get(event="checkout.paid_after_cancel")
    assert report.details["paymentId"] == "late_payment_1"
    assert clock.now(scope) - checkout.created_at >= timedelta(hours=25)

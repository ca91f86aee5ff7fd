"""Resets and the subscriptions seam (entitlement_sync): periods close exactly once, plans'
changes reach balances, overage is billed once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction

from billing.models import PeriodUsage, Subscription
from billing.periods import next_period_end
from billing.services import entitlement_sync as sync
from cynco import clock
from cynco.locks import lock_customer
from tests.billing.entitlements import (
    check, customer_on, metered, plan, state_of, test_scope, track,
)

pytestmark = pytest.mark.django_db

DAY = 86400


def under_lock(subscription, change, **kwargs):
    with transaction.atomic():
        lock_customer(subscription.customer_id)
        return change(subscription=subscription, **kwargs)


def test_usage_resets_when_the_period_ends_and_the_period_is_closed_once(api, merchant):
    plan(api, "pro", metered("messages", 100))
    customer_on(api, merchant, "pro")
    track(api, "messages", amount=30)
    clock.advance(scope=test_scope(merchant), seconds=32 * DAY)
    fresh = check(api, "messages")
    assert (fresh["usage"], fresh["balance"]) == (0, 100)
    track(api, "messages")
    check(api, "messages", sendEvent=True)
    (closed,) = PeriodUsage.objects.all()
    assert (closed.used, closed.granted, closed.overage_amount) == (30, 100, 0)
    assert state_of(api)["balances"]["messages"]["usage"] == 2


def test_a_feature_with_its_own_daily_reset_resets_every_day(api, merchant):
    plan(api, "pro", metered("exports", 3, resetInterval="day"))
    customer_on(api, merchant, "pro")
    for _ in range(3):
        check(api, "exports", sendEvent=True)
    assert check(api, "exports")["allowed"] is False
    clock.advance(scope=test_scope(merchant), seconds=DAY)
    assert check(api, "exports")["balance"] == 3


def test_the_customer_view_shows_a_passed_period_as_fresh_before_any_use(api, merchant):
    plan(api, "pro", metered("messages", 100))
    customer_on(api, merchant, "pro")
    track(api, "messages", amount=100)
    assert state_of(api)["flags"]["messages"] is False
    clock.advance(scope=test_scope(merchant), seconds=40 * DAY)
    assert state_of(api)["balances"]["messages"]["balance"] == 100


def test_period_close_bills_overage_once(api, merchant):
    plan(api, "payg", metered("calls", 10, overageAllowed=True, overagePrice=7))
    subscription = customer_on(api, merchant, "payg")
    track(api, "calls", amount=12.5)
    at = subscription.current_period_end
    lines = under_lock(subscription, sync.period_close, period_end=at, at=at)
    (line,) = lines
    assert (line.feature_slug, line.units, line.unit_price, line.amount) == (
        "calls", Decimal("2.5"), 7, 18)
    assert (line.period_start, line.period_end) == (subscription.current_period_start, at)
    assert under_lock(subscription, sync.period_close, period_end=at, at=at) == lines
    sync.overage_invoiced(period_usage_ids=[line.period_usage_id], invoice_id="pinv_1")
    sync.overage_invoiced(period_usage_ids=[line.period_usage_id], invoice_id="pinv_2")
    assert PeriodUsage.objects.get().invoice_id == "pinv_1"
    clock.advance(scope=test_scope(merchant), seconds=32 * DAY)
    assert check(api, "calls")["usage"] == 0


def test_a_lazy_reset_and_the_period_end_job_agree(api, merchant):
    plan(api, "payg", metered("calls", 10, overageAllowed=True, overagePrice=7))
    subscription = customer_on(api, merchant, "payg")
    track(api, "calls", amount=11)
    clock.advance(scope=test_scope(merchant), seconds=32 * DAY)
    track(api, "calls")  # closes the period lazily
    end = subscription.current_period_end
    (line,) = under_lock(subscription, sync.period_close, period_end=end, at=end)
    assert (line.units, line.amount) == (1, 7)
    assert check(api, "calls")["usage"] == 1


def test_a_renewal_starts_the_new_period_from_the_subscription(api, merchant):
    plan(api, "pro", metered("messages", 100))
    subscription = customer_on(api, merchant, "pro")
    track(api, "messages", amount=60)
    subscription.current_period_start = subscription.current_period_end
    subscription.current_period_end = next_period_end(subscription.current_period_start,
                                                      "month", 1)
    subscription.save()
    clock.advance(scope=test_scope(merchant), seconds=31 * DAY)
    under_lock(subscription, sync.subscription_changed, at=clock.now(test_scope(merchant)))
    under_lock(subscription, sync.subscription_changed, at=clock.now(test_scope(merchant)))
    assert check(api, "messages")["usage"] == 0
    assert PeriodUsage.objects.get().used == 60


def test_quantity_pause_and_cancel_reach_the_balance(api, merchant):
    plan(api, "team", metered("messages", 100))
    subscription = customer_on(api, merchant, "team")
    track(api, "messages", amount=150)
    now = clock.now(test_scope(merchant))
    subscription.quantity = 3
    subscription.save()
    under_lock(subscription, sync.subscription_changed, at=now)
    assert (check(api, "messages")["granted"], check(api, "messages")["usage"]) == (300, 150)
    subscription.status = Subscription.Status.PAUSED
    subscription.save()
    under_lock(subscription, sync.subscription_changed, at=now)
    assert check(api, "messages")["allowed"] is False
    subscription.status = Subscription.Status.ACTIVE
    subscription.save()
    under_lock(subscription, sync.subscription_changed, at=now)
    assert check(api, "messages")["balance"] == 150
    subscription.status = Subscription.Status.CANCELED
    subscription.save()
    under_lock(subscription, sync.subscription_changed, at=now)
    assert check(api, "messages")["granted"] == 0


def test_purchased_credits_are_spent_after_the_plan_and_never_reset(api, merchant):
    plan(api, "pro", metered("credits", 10))
    plan(api, "topup", metered("credits", 25), amount=900, isAddOn=True)
    customer_on(api, merchant, "pro")
    purchase = customer_on(api, merchant, "topup")
    purchase.status = Subscription.Status.EXPIRED  # a one-off purchase grants no allowance
    purchase.save()
    now = clock.now(test_scope(merchant))
    under_lock(purchase, sync.subscription_changed, at=now)
    under_lock(purchase, sync.purchase_granted, quantity=2, at=now)
    assert check(api, "credits")["granted"] == 60
    track(api, "credits", amount=25)
    clock.advance(scope=test_scope(merchant), seconds=32 * DAY)
    result = check(api, "credits")
    assert (result["granted"], result["usage"]) == (45, 0)


def test_carry_over_of_usage_and_balance_on_an_upgrade(api, merchant):
    plan(api, "basic", metered("messages", 100), amount=1000, groupSlug="main")
    plan(api, "pro", metered("messages", 1000), groupSlug="main")
    basic = customer_on(api, merchant, "basic")
    track(api, "messages", amount=40)
    clock.advance(scope=test_scope(merchant), seconds=5 * DAY)
    now = clock.now(test_scope(merchant))
    basic.status, basic.canceled_at = Subscription.Status.CANCELED, now
    basic.save()
    under_lock(basic, sync.subscription_changed, at=now)
    pro = customer_on(api, merchant, "pro")
    with transaction.atomic():
        lock_customer(pro.customer_id)
        sync.carry_over(customer=pro.customer, from_subscription=basic, to_subscription=pro,
                        balances=True, usages=True, feature_slugs=None, at=now)
    result = check(api, "messages")
    assert (result["granted"], result["usage"]) == (1060, 40)
    assert pro.current_period_start - now < timedelta(seconds=5)

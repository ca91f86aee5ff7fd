"""Period-end jobs through the test clock: renewals, month-end anchors, dunning, idempotence."""

import threading
from datetime import datetime, timezone

import pytest
from django.db import connections

from billing.models import Invoice, Subscription
from billing.services.renewals import run_due
from cynco.tenancy import Scope
from tests.billing.catalog import define
from tests.billing.subscribing import (
    ADVANCE, DAY, LATER_DECLINED_CARD, advance, current, customer, invoices, main_catalog, now,
    state, subscribe_paid,
)
from tests.factories import Api, data_of, error_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(api):
    main_catalog(api)
    customer(api)


def test_pro_at_2000_renewed_three_times_gives_three_invoices_of_2000(api, shop):
    subscribe_paid(api, "pro")
    ran = advance(api, 95 * DAY)["ran"]
    assert ran["renewals"] == 3 and ran["invoices"] == 3 and ran["charges"] == 3
    totals = [(i["total"], i["status"]) for i in invoices(api)]
    assert totals == [(2000, "paid")] * 4  # the first period and three renewals
    numbers = sorted(i["number"] for i in invoices(api))
    assert numbers == [f"INV-TEST-{n:06d}" for n in range(1, 5)]
    periods = sorted((i["periodStart"], i["periodEnd"]) for i in invoices(api))
    assert all(a[1] == b[0] for a, b in zip(periods, periods[1:]))  # no gap, no overlap


def test_advancing_again_renews_nothing_twice(api, shop):
    subscribe_paid(api, "pro")
    advance(api, 31 * DAY)
    assert advance(api, 1)["ran"]["renewals"] == 0
    assert len(invoices(api)) == 2


def test_a_subscription_anchored_on_31_january_renews_on_the_last_day_of_february(api, shop):
    subscription = Subscription.objects.get(product__slug="free")
    start = datetime(2028, 1, 31, 10, tzinfo=timezone.utc)
    Subscription.objects.filter(pk=subscription.pk).update(
        current_period_start=start, current_period_end=datetime(2028, 2, 29, 10,
                                                                tzinfo=timezone.utc),
        billing_anchor_day=31)
    scope = Scope(subscription.merchant_id, "test")
    run_due(scope=scope, at=datetime(2028, 3, 31, 10, 0, 1, tzinfo=timezone.utc))
    subscription.refresh_from_db()
    assert subscription.current_period_start == datetime(2028, 3, 31, 10, tzinfo=timezone.utc)
    assert subscription.current_period_end == datetime(2028, 4, 30, 10, tzinfo=timezone.utc)


def test_a_declined_renewal_goes_past_due_retries_then_cancels(api, shop):
    subscribe_paid(api, "pro", card=LATER_DECLINED_CARD)
    end = current(api)["pro"]["currentPeriodEnd"]
    until_end = datetime.fromisoformat(end.replace("Z", "+00:00")) - now(api)
    first = advance(api, int(until_end.total_seconds()) + 60)["ran"]
    assert first["failedCharges"] == 1
    assert current(api)["pro"]["status"] == "past_due"
    assert state(api)["flags"].get("premium_support") is None  # no access meanwhile
    retries = advance(api, 6 * DAY)["ran"]
    assert retries["dunningSteps"] == 3
    assert "pro" not in current(api)
    pro = Subscription.objects.get(product__slug="pro")
    assert pro.status == "canceled"
    renewal = Invoice.objects.get(subscription=pro, reason="subscription_cycle")
    assert renewal.status == "uncollectible"
    assert renewal.period_start.isoformat().startswith(end[:10])


def test_running_the_period_end_job_in_two_workers_at_once_invoices_once(api, shop):
    subscribe_paid(api, "pro")
    pro = Subscription.objects.get(product__slug="pro")
    scope = Scope(pro.merchant_id, "test")
    at = pro.current_period_end
    results = []

    def worker():
        try:
            results.append(run_due(scope=scope, at=at))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r["renewals"] for r in results) == 1
    assert Invoice.objects.filter(subscription=pro).count() == 2
    assert sum(r["charges"] for r in results) == 1
    run_due(scope=scope, at=at)
    assert Invoice.objects.filter(subscription=pro).count() == 2


def test_cancel_at_period_end_takes_effect_at_the_period_end(api, shop):
    subscribe_paid(api, "pro")
    data_of(api.post("/api/v1/pay/cancel", {"customer": "user_1", "product": "pro"}))
    assert current(api)["pro"]["cancelAtPeriodEnd"] is True
    ran = advance(api, 32 * DAY)["ran"]
    assert ran["cancellations"] == 1 and ran["renewals"] == 0
    assert current(api) == {}


def test_the_clock_only_moves_in_test_and_forward(api, live_api, shop):
    assert error_of(live_api.post(ADVANCE, {"seconds": 10}))["code"] == "FORBIDDEN"
    before = now(api)
    for body, field in (({}, "body"), ({"seconds": 0}, "seconds"), ({"seconds": "10"}, "seconds"),
                        ({"to": "2001-01-01T00:00:00Z"}, "to"), ({"to": 5}, "to"),
                        ({"seconds": 5, "to": "2099-01-01T00:00:00Z"}, "body")):
        error = error_of(api.post(ADVANCE, body))
        assert error["code"] == "VALIDATION_ERROR"
        assert error["details"][0]["field"] == field, body
    assert Api(None).post(ADVANCE, {"seconds": 5}).status_code == 401
    answer = advance(api, 3600)
    assert set(answer) == {"now", "ran"}
    assert (now(api) - before).total_seconds() >= 3600


def test_the_clock_of_one_merchant_runs_nothing_of_another(api, shop, other_merchant):
    subscribe_paid(api, "pro")
    other = Api(other_merchant.secret_test)
    main_catalog(other)
    customer(other)
    subscribe_paid(other, "pro")
    assert advance(other, 32 * DAY)["ran"]["renewals"] == 1
    assert len(invoices(api)) == 1
    define(api, {"name": "X", "slug": "x", "prices": [], "features": []})

"""`/plans` and `/components/pricing-table`: what a customer may buy, and which way it goes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import Price, Subscription
from tests.billing.catalog import (
    CUSTOMERS, ENTERPRISE, FREE, PLANS, PRICING_TABLE, PRO, define, monthly, subscribe_directly,
    switch,
)
from tests.factories import Api, data_of, error_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(api):
    for body in (FREE, PRO, ENTERPRISE):
        define(api, body)
    define(api, {"name": "Extra seats", "slug": "seats", "isAddOn": True, "sortOrder": 5,
                 "prices": [monthly(500, trialDays=7)], "features": [switch("more_seats")]})
    data_of(api.post(CUSTOMERS, {"customerId": "user_1"}), 201)


def scenarios(api, customer="user_1") -> dict:
    plans = data_of(api.get(PLANS + f"?customer={customer}"))
    return {p["slug"]: p["customerEligibility"]["scenario"] for p in plans}


def test_plans_without_a_customer_have_no_eligibility(api, catalog):
    plans = data_of(api.get(PLANS))
    assert [p["slug"] for p in plans] == ["free", "pro", "enterprise", "seats"]
    assert all(p["customerEligibility"] is None for p in plans)
    assert set(plans[1]["prices"][0]) >= {"id", "amount", "currency", "billingInterval",
                                          "billingIntervalCount", "trialDays", "setupFee"}
    assert set(plans[1]["features"][0]) >= {"slug", "name", "type", "allowanceType",
                                            "allowance", "unlimited"}


def test_a_customer_on_the_free_plan_sees_upgrades_and_new_add_ons(api, catalog):
    assert scenarios(api) == {"free": "active", "pro": "upgrade", "enterprise": "upgrade",
                              "seats": "new"}
    seats = data_of(api.get(PLANS + "?customer=user_1"))[3]["customerEligibility"]
    assert seats == {"scenario": "new", "currentSubscriptionId": None, "prorationAmount": None,
                     "trialAvailable": True}


def test_a_customer_on_pro_a_quarter_in_pays_3500_to_upgrade(api, catalog):
    now = timezone.now()
    start = now - timedelta(days=7, hours=12)
    Subscription.objects.filter(product__slug="free").update(status="canceled")
    pro = subscribe_directly("user_1", "pro", start=start, end=start + timedelta(days=30))
    plans = {p["slug"]: p["customerEligibility"]
             for p in data_of(api.get(PLANS + "?customer=user_1"))}
    assert plans["pro"]["scenario"] == "active"
    assert plans["free"]["scenario"] == "downgrade"
    assert plans["enterprise"]["scenario"] == "upgrade"
    assert plans["enterprise"]["currentSubscriptionId"] == pro.id
    assert plans["enterprise"]["prorationAmount"] == 3500


def test_canceled_and_scheduled_plans_are_told_apart(api, catalog):
    now = timezone.now()
    free = subscribe_directly("user_1", "free", start=now, end=now + timedelta(days=30))
    free.customer.subscriptions.exclude(pk=free.pk).update(status="expired")
    free.cancel_at_period_end = True
    free.save()
    assert scenarios(api)["free"] == "canceled"
    free.cancel_at_period_end = False
    free.scheduled_price = Price.objects.get(product__slug="pro")
    free.save()
    assert scenarios(api)["pro"] == "scheduled"


def test_a_trial_is_offered_once(api, catalog):
    now = timezone.now()
    subscribe_directly("user_1", "seats", start=now, end=now + timedelta(days=7),
                       status="expired", trial_end=now)
    seats = data_of(api.get(PLANS + "?customer=user_1"))[3]["customerEligibility"]
    assert seats["scenario"] == "new" and seats["trialAvailable"] is False


def test_the_pricing_table_formats_amounts_and_counts_groups(api, public_api, catalog):
    table = data_of(public_api.get(PRICING_TABLE))
    assert [g for g in table["groups"]] == [{"slug": "main", "planCount": 3},
                                            {"slug": "default", "planCount": 1}]
    pro = table["plans"][1]
    assert "customerEligibility" not in pro
    assert pro["prices"][0]["amountFormatted"] == "MYR 20.00"
    assert pro["prices"][0]["trialDays"] is None
    assert table["plans"][3]["prices"][0]["trialDays"] == 7
    assert "allowanceType" not in pro["features"][0]
    with_customer = data_of(public_api.get(PRICING_TABLE + "?customer=user_1"))
    assert with_customer["plans"][0]["customerEligibility"] == {"scenario": "active"}


def test_plans_and_the_table_are_open_to_publishable_keys(public_api, catalog):
    assert len(data_of(public_api.get(PLANS + "?customer=user_1"))) == 4
    assert Api(None).get(PLANS).status_code == 401
    assert Api(None).get(PRICING_TABLE).status_code == 401


def test_an_unknown_customer_is_404(api, catalog):
    for path in (PLANS, PRICING_TABLE):
        response = api.get(path + "?customer=nobody")
        assert response.status_code == 404
        assert error_of(response)["code"] == "CUSTOMER_NOT_FOUND"


def test_plans_are_paginated(api, catalog):
    response = api.get(PLANS + "?limit=1&offset=1")
    assert [p["slug"] for p in data_of(response)] == ["pro"]
    assert response.json()["pagination"]["total"] == 4
    assert api.get(PLANS + "?limit=-1").status_code == 422


def test_another_merchant_or_live_sees_none_of_it(api, live_api, other_merchant, catalog):
    other = Api(other_merchant.publishable_test)
    assert data_of(other.get(PLANS)) == [] and data_of(live_api.get(PLANS)) == []
    assert data_of(other.get(PRICING_TABLE)) == {"plans": [], "groups": []}
    assert other.get(PLANS + "?customer=user_1").status_code == 404
    assert live_api.get(PRICING_TABLE + "?customer=user_1").status_code == 404

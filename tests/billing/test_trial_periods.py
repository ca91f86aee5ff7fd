"""A trial ends into one full period: a 14-day trial from 1 Dec pays 15 Dec → 15 Jan (the
billing anchor moves to the trial's end), whether the subscription starts at once or through a
card-saving checkout, whichever path the period-end job takes, in /preview and in analytics."""

from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest
from django.db import transaction

from billing.models import Invoice, Subscription
from billing.selectors.analytics import mrr_history, revenue_timeline
from billing.services import renewals
from cynco.locks import try_lock_customers
from cynco.tenancy import Scope
from tests.billing.catalog import define, monthly, switch
from tests.billing.subscribing import (
    ADVANCE, PREVIEW, current, customer, invoices, main_catalog, pay_checkout, subscribe,
)
from tests.factories import data_of

pytestmark = pytest.mark.django_db(transaction=True)

DEC_1 = datetime(2027, 12, 1, 9, tzinfo=timezone.utc)
DEC_15 = datetime(2027, 12, 15, 9, tzinfo=timezone.utc)
JAN_15 = datetime(2028, 1, 15, 9, tzinfo=timezone.utc)
FEB_15 = datetime(2028, 2, 15, 9, tzinfo=timezone.utc)
# The test clock keeps running after it is moved, so periods are compared by their day.


def team(requires_card: bool) -> dict:
    return {"name": "Team", "slug": "team", "groupSlug": "main", "sortOrder": 3,
            "prices": [monthly(9000, trialDays=14, trialRequiresCard=requires_card)],
            "features": [switch("sso")]}


@pytest.fixture
def shop(api):
    main_catalog(api)
    customer(api)
    data_of(api.post(ADVANCE, {"to": DEC_1.isoformat()}))


def advance_to(api, at: datetime) -> dict:
    return data_of(api.post(ADVANCE, {"to": at.isoformat()}))["ran"]


def when(value) -> date:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.date()


def days(*moments: datetime) -> tuple[date, ...]:
    return tuple(moment.date() for moment in moments)


def period(subscription: dict) -> tuple[date, date]:
    return when(subscription["currentPeriodStart"]), when(subscription["currentPeriodEnd"])


def test_a_14_day_trial_from_1_december_is_previewed_with_its_first_period_to_15_january(
        api, shop):
    define(api, team(requires_card=False))
    preview = data_of(api.post(PREVIEW, {"customer": "user_1", "product": "team"}))
    trial = preview["trial"]
    assert when(trial["trialEnd"]) == DEC_15.date()
    assert (when(trial["firstPeriodStart"]), when(trial["firstPeriodEnd"])) == days(DEC_15, JAN_15)
    assert "15 Dec 2027 – 15 Jan 2028" in preview["lineItems"][0]["description"]


def test_a_trial_started_at_once_ends_into_a_full_month_15_december_to_15_january(api, shop):
    define(api, team(requires_card=False))
    result = subscribe(api, "team")
    assert result["subscription"]["status"] == "trialing"
    assert period(result["subscription"]) == days(DEC_1, DEC_15)
    assert Subscription.objects.get(product__slug="team").billing_anchor_day == 15

    ran = advance_to(api, DEC_15 + timedelta(minutes=1))
    assert ran["trialEnds"] == 1
    team_now = current(api)["team"]
    assert period(team_now) == days(DEC_15, JAN_15)
    [first] = invoices(api)
    assert (when(first["periodStart"]), when(first["periodEnd"])) == days(DEC_15, JAN_15)
    assert first["total"] == 9000  # a full month for a full month


def test_a_card_required_trial_through_checkout_renews_on_the_15th(api, shop):
    define(api, team(requires_card=True))
    done = pay_checkout(api, subscribe(api, "team"))
    assert period(done["subscription"]) == days(DEC_1, DEC_15)

    assert advance_to(api, DEC_15 + timedelta(minutes=1))["trialEnds"] == 1
    assert period(current(api)["team"]) == days(DEC_15, JAN_15)
    assert advance_to(api, JAN_15 + timedelta(minutes=1))["renewals"] == 1
    assert period(current(api)["team"]) == days(JAN_15, FEB_15)
    paid = sorted((when(i["periodStart"]), when(i["periodEnd"]), i["total"], i["status"])
                  for i in invoices(api))
    assert paid == [(*days(DEC_15, JAN_15), 9000, "paid"), (*days(JAN_15, FEB_15), 9000, "paid")]


def test_the_one_by_one_renewal_path_also_ends_the_trial_into_a_full_month(api, shop, merchant):
    define(api, team(requires_card=False))
    subscribe(api, "team")
    scope = Scope(merchant.merchant.id, "test")
    ran: Counter = Counter()
    with transaction.atomic():  # what the job does when its batch path is rolled back
        row = (renewals._due_rows(scope, DEC_15 + timedelta(days=1)).select_for_update(of=("self",))
               .select_related("product", "price", "scheduled_price").get(product__slug="team"))
        assert try_lock_customers([row.customer_id]) == {row.customer_id}
        renewals._step(scope, row, ran)
    assert ran["trialEnds"] == 1
    row.refresh_from_db()
    assert (when(row.current_period_start), when(row.current_period_end)) == days(DEC_15, JAN_15)
    assert row.current_period_end - row.current_period_start == JAN_15 - DEC_15
    invoice = Invoice.objects.get(subscription=row)
    assert (when(invoice.period_start), when(invoice.period_end)) == days(DEC_15, JAN_15)


def test_analytics_count_a_trial_as_paying_from_its_end(api, shop, merchant):
    define(api, team(requires_card=True))
    data_of(api.post(ADVANCE, {"to": datetime(2027, 12, 25, 9, tzinfo=timezone.utc)
                               .isoformat()}))
    pay_checkout(api, subscribe(api, "team"))  # trial 25 Dec → 8 Jan
    scope = Scope(merchant.merchant.id, "test")
    advance_to(api, datetime(2028, 1, 20, tzinfo=timezone.utc))
    at = datetime(2028, 1, 20, tzinfo=timezone.utc)
    history = {row["month"]: row["mrr"] for row in
               mrr_history(scope=scope, currency="MYR", at=at, months=2)}
    assert history == {"2027-12": 0, "2028-01": 9000}
    timeline = {row["month"]: row["newSubscriptions"] for row in
                revenue_timeline(scope=scope, currency="MYR", at=at, months=2)}
    assert timeline == {"2027-12": 0, "2028-01": 1}

"""GET /analytics: MRR, ARR, churn, ARPU, trial conversion, and a timeline that agrees with the
ledger. Subscriptions are built as rows (the subscribe flow is tested with subscriptions)."""

from datetime import timedelta

import pytest

from cynco import clock
from cynco.tenancy import Scope
from ledger import rules
from ledger.services.periods import books_opened_on
from tests.billing.catalog import CUSTOMERS, ENTERPRISE, FREE, PRO, define, subscribe_directly
from tests.factories import Api, data_of, error_of

pytestmark = pytest.mark.django_db

ANALYTICS = "/api/v1/pay/analytics"
YEARLY = {
    "name": "Pro yearly", "slug": "pro_yearly", "groupSlug": "yearly",
    "prices": [{"type": "recurring", "billingInterval": "year", "amount": 24000}],
    "features": [],
}
WEEKLY = {
    "name": "Weekly", "slug": "weekly", "groupSlug": "weekly",
    "prices": [{"type": "recurring", "billingInterval": "week", "amount": 1200}],
    "features": [],
}


@pytest.fixture
def catalog(api):
    for body in (FREE, PRO, ENTERPRISE, YEARLY, WEEKLY):
        define(api, body)


def customer(api, external_id):
    data_of(api.post(CUSTOMERS, {"customerId": external_id}), 201)
    return external_id


def now(merchant):
    return clock.now(Scope(merchant.merchant.id, "test"))


def test_mrr_normalises_yearly_and_weekly_prices_and_counts_seats(api, merchant, catalog):
    at = now(merchant)
    start, end = at - timedelta(days=3), at + timedelta(days=27)
    subscribe_directly(customer(api, "a"), "pro", start=start, end=end)                 # 2000
    subscribe_directly(customer(api, "b"), "enterprise", start=start, end=end, quantity=2)  # 10000
    subscribe_directly(customer(api, "c"), "pro_yearly", start=start, end=end)          # 2000
    subscribe_directly(customer(api, "d"), "weekly", start=start, end=end)              # 5200
    body = data_of(api.get(ANALYTICS))
    assert body["mrr"] == 2000 + 10000 + 2000 + 5200
    assert body["arr"] == 12 * body["mrr"]
    assert body["currency"] == "MYR"
    # Each customer also holds the free default plan: live subscriptions count free ones too.
    assert body["activeSubscriptions"] == 8
    assert body["arpu"] == (2000 + 10000 + 2000 + 5200) // 4


def test_trials_and_free_plans_bring_no_mrr(api, merchant, catalog):
    at = now(merchant)
    subscribe_directly(customer(api, "t"), "pro", start=at, end=at + timedelta(days=14),
                       status="trialing", trial_end=at + timedelta(days=14))
    body = data_of(api.get(ANALYTICS))
    assert (body["mrr"], body["arpu"]) == (0, 0)
    assert body["activeSubscriptions"] == 2  # the trial and the free plan


def test_churn_is_cancellations_of_the_last_30_days_over_paid_subscriptions_active_then(
    api, merchant, catalog
):
    at = now(merchant)
    old = at - timedelta(days=60)
    for name in ("k1", "k2", "k3"):
        subscribe_directly(customer(api, name), "pro", start=old, end=at + timedelta(days=1))
    subscribe_directly(customer(api, "gone"), "pro", start=old, end=at, status="canceled",
                       canceled_at=at - timedelta(days=5))
    subscribe_directly(customer(api, "long_gone"), "pro", start=old, end=old, status="canceled",
                       canceled_at=at - timedelta(days=45))
    # Created 60 days ago in the database's eyes: created_at is set on insert, so move it back.
    from billing.models import Subscription

    Subscription.objects.filter(product__slug="pro").update(created_at=old)
    body = data_of(api.get(ANALYTICS))
    assert body["churnRate"] == 25.0  # 1 of the 4 paid subscriptions active 30 days ago


def test_trial_conversion_counts_trials_that_ended_without_cancellation(api, merchant, catalog):
    at = now(merchant)
    ended = at - timedelta(days=1)
    subscribe_directly(customer(api, "kept"), "pro", start=ended, end=at + timedelta(days=29),
                       trial_end=ended)
    subscribe_directly(customer(api, "left"), "pro", start=ended, end=ended, status="canceled",
                       trial_end=ended, canceled_at=ended - timedelta(hours=1))
    subscribe_directly(customer(api, "still"), "pro", start=at, end=at + timedelta(days=7),
                       status="trialing", trial_end=at + timedelta(days=7))
    assert data_of(api.get(ANALYTICS))["trialConversionRate"] == 50.0


def test_the_timeline_takes_revenue_from_the_ledger_month_by_month(api, merchant, catalog):
    scope = Scope(merchant.merchant.id, "test")
    at = now(merchant)
    this_month = at.date().replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    books_opened_on(scope=scope, opened_on=last_month)  # last month's books brought in
    rules.invoice_finalized(scope=scope, invoice_id="pinv_1", currency="MYR",
                            subscription=2000, date=last_month)
    rules.invoice_finalized(scope=scope, invoice_id="pinv_2", currency="MYR",
                            subscription=5000, discount=1000, date=this_month)
    rules.refund_issued(scope=scope, refund_id="re_1", gateway="sandbox", amount=500,
                        currency="MYR", date=this_month)
    rules.invoice_finalized(scope=scope, invoice_id="pinv_3", currency="USD",
                            subscription=999, date=this_month)
    subscribe_directly(customer(api, "new"), "pro", start=at, end=at + timedelta(days=30))

    timeline = data_of(api.get(ANALYTICS + "?view=timeline&months=3"))
    assert [row["month"] for row in timeline][-2:] == [
        last_month.strftime("%Y-%m"), this_month.strftime("%Y-%m")
    ]
    assert len(timeline) == 3
    assert timeline[-2]["revenue"] == 2000
    assert timeline[-1]["revenue"] == 5000 - 1000 - 500  # net of discount and refund, MYR only
    assert timeline[-1]["newSubscriptions"] == 1
    assert timeline[0] == {"month": timeline[0]["month"], "revenue": 0,
                           "newSubscriptions": 0, "churned": 0}


def test_the_timeline_defaults_to_twelve_months(api):
    assert len(data_of(api.get(ANALYTICS + "?view=timeline"))) == 12


@pytest.mark.parametrize(
    "query, field",
    [("?view=pie", "view"), ("?view=timeline&months=0", "months"),
     ("?view=timeline&months=37", "months"), ("?view=timeline&months=abc", "months"),
     ("?currency=XYZ", "currency")],
)
def test_bad_analytics_queries_are_422(api, query, field):
    response = api.get(ANALYTICS + query)
    assert response.status_code == 422
    assert error_of(response)["details"][0]["field"] == field


def test_analytics_need_a_secret_key(public_api):
    assert public_api.get(ANALYTICS).status_code == 403
    assert Api(None).get(ANALYTICS).status_code == 401


def test_live_analytics_do_not_count_test_subscriptions(api, live_api, merchant, catalog):
    at = now(merchant)
    subscribe_directly(customer(api, "a"), "pro", start=at, end=at + timedelta(days=30))
    assert data_of(api.get(ANALYTICS))["mrr"] == 2000
    assert data_of(live_api.get(ANALYTICS))["mrr"] == 0


def test_the_admin_dashboard_shows_the_figures_and_charts(api, merchant, catalog, admin_client):
    at = now(merchant)
    subscribe_directly(customer(api, "a"), "pro", start=at, end=at + timedelta(days=30))
    page = admin_client.get(f"/admin/billing-dashboard/?merchant={merchant.merchant.id}"
                            "&environment=test")
    assert page.status_code == 200
    text = page.content.decode()
    assert "MRR at month end" in text and "Revenue by month" in text
    assert "<b>MYR 20.00</b>" in text  # cynco.money, not minor units
    assert "Billing dashboard" in admin_client.get("/admin/").content.decode()


def test_the_dashboard_shows_staff_only_their_merchant(client, merchant, other_merchant,
                                                       django_user_model):
    from cynco.models import MerchantStaff

    user = django_user_model.objects.create_user("ops", password="pw-123456789", is_staff=True)
    MerchantStaff.objects.create(user=user, merchant=merchant.merchant)
    client.force_login(user)
    text = client.get(f"/admin/billing-dashboard/?merchant={other_merchant.merchant.id}").content
    assert other_merchant.merchant.name.encode() not in text
    assert merchant.merchant.name.encode() in text


def test_the_dashboard_needs_a_staff_login(client):
    assert client.get("/admin/billing-dashboard/").status_code == 302


def test_mrr_history_counts_subscriptions_that_existed_and_were_not_canceled_at_month_end(
    api, merchant, catalog
):
    from billing.models import Subscription
    from billing.selectors.analytics import mrr_history

    scope = Scope(merchant.merchant.id, "test")
    at = now(merchant)
    this_month = at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    two_months_ago = (this_month - timedelta(days=40)).replace(day=5)
    stayed = subscribe_directly(customer(api, "stayed"), "pro", start=two_months_ago,
                                end=at + timedelta(days=5))
    left = subscribe_directly(customer(api, "left"), "enterprise", start=two_months_ago,
                              end=this_month, status="canceled",
                              canceled_at=this_month - timedelta(days=1))
    Subscription.objects.filter(pk__in=[stayed.pk, left.pk]).update(created_at=two_months_ago)
    history = mrr_history(scope=scope, currency="MYR", at=at, months=3)
    # Both existed through the month they started in; the Enterprise was canceled on the last
    # day of last month, so last month ended without it; now only the Pro earns.
    assert [row["mrr"] for row in history] == [2000 + 5000, 2000, 2000]
    assert history[-1]["month"] == at.strftime("%Y-%m")

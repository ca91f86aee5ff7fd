"""`/events`: a customer's usage of a feature over time, per day, week or month."""

from datetime import datetime, timedelta, timezone

import pytest

from billing.models import Feature, UsageEvent
from cynco import clock
from tests.billing.entitlements import EVENTS, customer_on, customer_row, metered, plan, track
from tests.factories import Api, data_of, error_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def pro(api, merchant):
    plan(api, "pro", metered("messages", 1000))
    customer_on(api, merchant, "pro")


def backdate(days: float, amount: float, merchant):
    UsageEvent.objects.create(
        merchant=merchant.merchant, environment="test", customer=customer_row(merchant),
        feature=Feature.objects.get(merchant=merchant.merchant, environment="test",
                                    slug="messages"),
        amount=amount, source="track",
        created_at=clock.wall_now() - timedelta(days=days),
    )


def test_usage_per_day_over_a_week(api, merchant, pro):
    track(api, "messages", amount=2)
    track(api, "messages", amount=3)
    backdate(2, 4, merchant)
    backdate(9, 100, merchant)  # outside 7 days
    result = data_of(api.post(EVENTS, {"customer": "user_1", "feature": "messages",
                                       "range": "7d", "groupBy": "day"}))
    today = datetime.now(timezone.utc).date()
    assert len(result["timeline"]) == 8
    assert result["timeline"][-1] == {"period": today.isoformat(), "count": 2, "total": 5}
    assert result["timeline"][-3]["total"] == 4
    assert result["total"] == {"count": 3, "sum": 9}


def test_weeks_start_on_monday_and_months_read_yyyy_mm(api, merchant, pro):
    track(api, "messages")
    weeks = data_of(api.post(EVENTS, {"customer": "user_1", "feature": "messages",
                                      "range": "30d", "groupBy": "week"}))["timeline"]
    assert all(datetime.fromisoformat(w["period"]).weekday() == 0 for w in weeks)
    months = data_of(api.post(EVENTS, {"customer": "user_1", "feature": "messages",
                                       "range": "365d", "groupBy": "month"}))
    assert months["timeline"][-1]["period"] == datetime.now(timezone.utc).strftime("%Y-%m")
    assert len(months["timeline"]) in (12, 13) and months["total"]["count"] == 1


def test_defaults_are_30_days_by_day(api, pro):
    result = data_of(api.post(EVENTS, {"customer": "user_1", "feature": "messages"}))
    assert len(result["timeline"]) == 31 and result["total"] == {"count": 0, "sum": 0}


@pytest.mark.parametrize("body, field", [
    ({"feature": "messages"}, "customer"),
    ({"customer": "user_1"}, "feature"),
    ({"customer": "user_1", "feature": "messages", "range": "1y"}, "range"),
    ({"customer": "user_1", "feature": "messages", "range": 7}, "range"),
    ({"customer": "user_1", "feature": "messages", "groupBy": "hour"}, "groupBy"),
    ({"customer": ["user_1"], "feature": "messages"}, "customer"),
])
def test_bad_events_input_is_a_422(api, pro, body, field):
    response = api.post(EVENTS, body)
    assert response.status_code == 422
    assert field in [d["field"] for d in error_of(response)["details"]]


def test_events_need_a_secret_key_and_stay_with_their_merchant(
        api, public_api, live_api, other_merchant, pro):
    body = {"customer": "user_1", "feature": "messages"}
    assert Api(None).post(EVENTS, body).status_code == 401
    assert public_api.post(EVENTS, body).status_code == 403
    assert error_of(Api(other_merchant.secret_test).post(EVENTS, body))["code"] \
        == "CUSTOMER_NOT_FOUND"
    assert live_api.post(EVENTS, body).status_code == 404
    assert error_of(api.post(EVENTS, {**body, "feature": "x"}))["code"] == "FEATURE_NOT_FOUND"

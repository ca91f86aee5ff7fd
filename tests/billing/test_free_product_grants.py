"""A referral's free product: the customer gets the product free for the granted periods,
with no charge, at the moment the code is redeemed."""

import pytest

from billing.models import FreeProductGrant, Invoice
from gateways.models import PaymentAttempt
from ledger.models import JournalEntry
from tests.billing.subscribing import (
    DAY, advance, current, customer, invoices, main_catalog, subscribe_paid,
)
from tests.factories import data_of

pytestmark = pytest.mark.django_db(transaction=True)
REWARDS = "/api/v1/pay/rewards"


@pytest.fixture
def shop(api):
    main_catalog(api)
    customer(api, "jane")
    customer(api, "friend")


def redeem_two_free_months(api, referee="friend") -> dict:
    program = data_of(api.post(REWARDS, {"name": "Two months of Pro", "rewardType":
                                         "free_product", "rewardValue": 2,
                                         "rewardProductId": "pro"}), 201)
    data_of(api.post(f"{REWARDS}?action=code", {"programId": program["id"],
                                                "customer": "jane", "code": "JANE"}), 201)
    return data_of(api.post(f"{REWARDS}?action=redeem", {"programId": program["id"],
                                                         "code": "JANE", "customer": referee}))


def test_a_friend_on_the_free_plan_gets_pro_free_for_two_months(api, shop):
    result = redeem_two_free_months(api)

    pro = current(api, "friend")["pro"]
    grant = FreeProductGrant.objects.get(customer__external_id="friend")
    assert (grant.status, grant.subscription_id) == ("fulfilled", pro["id"])
    assert result["refereeReward"]["status"] == "fulfilled"
    assert pro["status"] == "trialing"
    assert "free" not in current(api, "friend")  # the free plan was replaced
    assert not Invoice.objects.exists() and not PaymentAttempt.objects.exists()
    assert not JournalEntry.objects.exists()

    advance(api, 58 * DAY)  # still inside the two free months
    assert current(api, "friend")["pro"]["status"] == "trialing" and not invoices(api, "friend")
    advance(api, 5 * DAY)  # the free time ended: Pro is billed like any trial's end
    assert [i["total"] for i in invoices(api, "friend")] == [2000]


def test_a_customer_already_on_pro_gets_their_period_extended(api, shop):
    subscribe_paid(api, "pro", "friend")
    end = current(api, "friend")["pro"]["currentPeriodEnd"]

    redeem_two_free_months(api)

    pro = current(api, "friend")["pro"]
    assert pro["status"] == "active" and pro["currentPeriodEnd"] > end
    assert FreeProductGrant.objects.get(customer__external_id="friend").status == "fulfilled"
    advance(api, 62 * DAY)
    assert len(invoices(api, "friend")) == 1  # no renewal charged during the free months


def test_a_customer_on_a_higher_plan_keeps_it_and_the_grant_waits(api, shop):
    subscribe_paid(api, "enterprise", "friend")

    result = redeem_two_free_months(api)

    assert result["refereeReward"]["status"] == "pending"
    assert set(current(api, "friend")) == {"enterprise"}

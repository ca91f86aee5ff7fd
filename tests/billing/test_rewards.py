"""`/rewards`: a merchant runs a referral program; Jane shares JANE20 and both she and the
friend who redeems it are rewarded, once, within the program's limits."""

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import (
    Coupon,
    CustomerCredit,
    FreeProductGrant,
    ReferralCode,
    ReferralRedemption,
    RewardProgram,
)
from tests.billing.catalog import CUSTOMERS, PRO, define
from tests.billing.test_coupons import VALIDATE
from tests.factories import Api, data_of, error_of

pytestmark = pytest.mark.django_db

REWARDS = "/api/v1/pay/rewards"
PROGRAM = {"name": "Give 20, get 20", "rewardType": "percentage_discount", "rewardValue": 20}
PROGRAM_KEYS = {"id", "name", "rewardType", "rewardValue", "rewardProductId", "currency",
                "trigger", "status", "maxRedemptions", "maxPerReferrer", "redemptionCount",
                "metadata", "createdAt"}
CODE_KEYS = {"id", "programId", "code", "customerId", "redemptionCount", "maxRedemptions",
             "expiresAt", "createdAt"}


def customers(api, *names):
    return [data_of(api.post(CUSTOMERS, {"customerId": name}), 201)["id"] for name in names]


def program(api, body=PROGRAM) -> dict:
    return data_of(api.post(REWARDS, body), 201)


def referral_code(api, program_id, customer="jane", code="JANE20", **extra) -> dict:
    return data_of(api.post(f"{REWARDS}?action=code", {
        "programId": program_id, "customer": customer, "code": code, **extra}), 201)


def redeem(api, program_id, customer, code="JANE20"):
    return api.post(f"{REWARDS}?action=redeem",
                    {"programId": program_id, "code": code, "customer": customer})


def conflict(response) -> str:
    assert response.status_code == 409, response.content[:400]
    error = error_of(response)
    assert error["code"] == "CONFLICT"
    return error["message"]


def fields_of(response) -> list[str]:
    assert response.status_code == 422, response.content[:500]
    return [d["field"] for d in error_of(response)["details"]]


def test_jane_refers_a_friend_and_both_get_a_coupon_of_their_own(api):
    define(api, PRO)
    jane_id, friend_id = customers(api, "jane", "friend")
    created = program(api)
    assert set(created) == PROGRAM_KEYS and created["id"].startswith("prw_")
    assert (created["trigger"], created["currency"], created["status"]) == (
        "referral_signup", "MYR", "active")
    code = referral_code(api, created["id"])
    assert set(code) == CODE_KEYS and code["id"].startswith("prc_")
    assert (code["customerId"], code["code"], code["redemptionCount"]) == (jane_id, "JANE20", 0)

    result = data_of(redeem(api, created["id"], "friend", code="jane20"))
    assert result["redeemed"] is True
    assert (result["referrerId"], result["refereeId"]) == (jane_id, friend_id)
    mine, theirs = result["referrerReward"], result["refereeReward"]
    assert mine["type"] == theirs["type"] == "percentage_discount"
    assert mine["couponCode"] != theirs["couponCode"]
    # Each reward coupon is its holder's alone, and takes 20% off once.
    for holder, other, reward in (("jane", "friend", mine), ("friend", "jane", theirs)):
        answer = data_of(api.post(VALIDATE, {"code": reward["couponCode"], "customer": holder,
                                             "product": "pro", "amount": 2000}))
        assert (answer["valid"], answer["discountAmount"]) == (True, 400)
        refused = data_of(api.post(VALIDATE, {"code": reward["couponCode"], "customer": other,
                                              "product": "pro", "amount": 2000}))
        assert refused == {"valid": False, "message": "Coupon not found"}
    coupon = Coupon.objects.get(pk=theirs["couponId"])
    assert (coupon.customer_id, coupon.max_redemptions, coupon.duration) == (
        friend_id, 1, "once")
    assert data_of(api.get(f"{REWARDS}?customer=jane"))[0]["redemptionCount"] == 1
    assert data_of(api.get(REWARDS))[0]["redemptionCount"] == 1


def test_a_credit_program_records_a_credit_for_each_side(api):
    jane_id, friend_id = customers(api, "jane", "friend")
    created = program(api, {"name": "RM10 each", "rewardType": "credit", "rewardValue": 1000})
    referral_code(api, created["id"])
    result = data_of(redeem(api, created["id"], "friend"))
    assert result["refereeReward"]["amount"] == 1000
    assert result["refereeReward"]["currency"] == "MYR"
    credits = CustomerCredit.objects.order_by("customer_id")
    assert sorted((c.customer_id, c.amount, c.remaining, c.currency) for c in credits) == sorted(
        [(jane_id, 1000, 1000, "MYR"), (friend_id, 1000, 1000, "MYR")])


def test_a_free_product_program_gives_each_side_the_product_free(api):
    pro = define(api, PRO)
    customers(api, "jane", "friend")
    created = program(api, {"name": "A month of Pro", "rewardType": "free_product",
                            "rewardValue": 1, "rewardProductId": "pro"})
    assert created["rewardProductId"] == pro["id"]
    referral_code(api, created["id"])
    result = data_of(redeem(api, created["id"], "friend"))
    assert result["refereeReward"]["status"] == "fulfilled"
    assert result["referrerReward"]["productId"] == pro["id"]
    grants = FreeProductGrant.objects.filter(status="fulfilled", periods=1)
    assert grants.count() == 2 and all(grant.subscription_id for grant in grants)
    # Fulfilment is billing.services.free_product_grants; its scenarios are in
    # tests/billing/test_free_product_grants.py.


def test_a_fixed_discount_program_can_be_limited_to_a_product_and_a_currency(api):
    pro = define(api, PRO)
    customers(api, "jane", "friend")
    created = program(api, {"name": "5 off", "rewardType": "fixed_discount", "rewardValue": 500,
                            "rewardProductId": pro["id"], "currency": "usd",
                            "trigger": "referral_subscribe", "metadata": {"c": 1}})
    assert (created["currency"], created["trigger"], created["metadata"]) == (
        "USD", "referral_subscribe", {"c": 1})
    referral_code(api, created["id"])
    reward = data_of(redeem(api, created["id"], "friend"))["refereeReward"]
    assert [p.pk for p in Coupon.objects.get(pk=reward["couponId"]).products.all()] == [pro["id"]]


def test_nobody_redeems_their_own_code_or_twice(api):
    customers(api, "jane", "friend")
    created = program(api)
    referral_code(api, created["id"])
    assert fields_of(redeem(api, created["id"], "jane")) == ["customer"]
    data_of(redeem(api, created["id"], "friend"))
    assert conflict(redeem(api, created["id"], "friend")) == (
        "This customer was already referred in this program")
    assert ReferralRedemption.objects.count() == 1


def test_the_programs_the_referrers_and_the_codes_limits_hold(api):
    customers(api, "jane", "john", "a", "b", "c", "d")
    capped = program(api, {**PROGRAM, "maxRedemptions": 3, "maxPerReferrer": 2})
    referral_code(api, capped["id"])
    referral_code(api, capped["id"], code="JANE-TWO")
    referral_code(api, capped["id"], customer="john", code="JOHN1", maxRedemptions=1)
    data_of(redeem(api, capped["id"], "a"))
    data_of(redeem(api, capped["id"], "b", code="JANE-TWO"))
    assert conflict(redeem(api, capped["id"], "c")) == (
        "This referrer has reached the program's limit of referrals")
    data_of(redeem(api, capped["id"], "c", code="JOHN1"))
    assert conflict(redeem(api, capped["id"], "d", code="JOHN1")) == (
        "This reward program has reached its redemption limit")
    program_row = RewardProgram.objects.get()
    assert program_row.times_redeemed == 3


def test_a_code_used_up_or_expired_is_refused(api):
    customers(api, "jane", "a", "b")
    created = program(api)
    referral_code(api, created["id"], maxRedemptions=1)
    data_of(redeem(api, created["id"], "a"))
    assert conflict(redeem(api, created["id"], "b")) == (
        "This referral code has reached its redemption limit")
    referral_code(api, created["id"], code="SOON",
                  expiresAt=(timezone.now() + timedelta(seconds=2)).isoformat())
    ReferralCode.objects.filter(code="SOON").update(expires_at=timezone.now())
    assert conflict(redeem(api, created["id"], "b", code="SOON")) == (
        "This referral code has expired")


def test_unknown_programs_codes_and_customers_are_404(api):
    customers(api, "jane", "friend")
    created = program(api)
    referral_code(api, created["id"])
    assert error_of(redeem(api, "prw_nope", "friend"))["code"] == "NOT_FOUND"
    assert error_of(redeem(api, created["id"], "friend", code="NOPE"))["code"] == "NOT_FOUND"
    assert error_of(redeem(api, created["id"], "stranger"))["code"] == "CUSTOMER_NOT_FOUND"
    assert error_of(api.get(f"{REWARDS}?customer=stranger"))["code"] == "CUSTOMER_NOT_FOUND"
    response = api.post(f"{REWARDS}?action=code",
                        {"programId": created["id"], "customer": "stranger", "code": "S1"})
    assert error_of(response)["code"] == "CUSTOMER_NOT_FOUND"


def test_referral_codes_are_unique_in_any_case(api):
    customers(api, "jane", "john")
    created = program(api)
    referral_code(api, created["id"])
    response = api.post(f"{REWARDS}?action=code",
                        {"programId": created["id"], "customer": "john", "code": "jane20"})
    assert conflict(response) == "A referral code 'jane20' already exists"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"rewardType": "credit", "rewardValue": 1}, "name"),
        ({"name": "P", "rewardValue": 1}, "rewardType"),
        ({"name": "P", "rewardType": "credit"}, "rewardValue"),
        ({**PROGRAM, "name": 1}, "name"),
        ({**PROGRAM, "rewardType": "cashback"}, "rewardType"),
        ({**PROGRAM, "rewardValue": "20"}, "rewardValue"),
        ({**PROGRAM, "rewardValue": 0}, "rewardValue"),
        ({**PROGRAM, "rewardValue": 101}, "rewardValue"),
        ({"name": "P", "rewardType": "free_product", "rewardValue": 1}, "rewardProductId"),
        ({"name": "P", "rewardType": "free_product", "rewardValue": 1,
          "rewardProductId": "nope"}, "rewardProductId"),
        ({"name": "P", "rewardType": "free_product", "rewardValue": 1000,
          "rewardProductId": "pro"}, "rewardValue"),
        ({**PROGRAM, "rewardProductId": 5}, "rewardProductId"),
        ({**PROGRAM, "trigger": "on_payday"}, "trigger"),
        ({**PROGRAM, "maxRedemptions": 0}, "maxRedemptions"),
        ({**PROGRAM, "maxPerReferrer": "2"}, "maxPerReferrer"),
        ({**PROGRAM, "currency": "XYZ"}, "currency"),
        ({**PROGRAM, "metadata": "x"}, "metadata"),
    ],
)
def test_bad_programs_are_422_and_write_nothing(api, body, field):
    define(api, PRO)
    assert field in fields_of(api.post(REWARDS, body))
    assert not RewardProgram.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"customer": "jane", "code": "J1"}, "programId"),
        ({"programId": "{program}", "code": "J1"}, "customer"),
        ({"programId": "{program}", "customer": "jane"}, "code"),
        ({"programId": 1, "customer": "jane", "code": "J1"}, "programId"),
        ({"programId": "{program}", "customer": ["jane"], "code": "J1"}, "customer"),
        ({"programId": "{program}", "customer": "jane", "code": "J 1"}, "code"),
        ({"programId": "{program}", "customer": "jane", "code": "J1", "maxRedemptions": 0},
         "maxRedemptions"),
        ({"programId": "{program}", "customer": "jane", "code": "J1", "expiresAt": 5},
         "expiresAt"),
        ({"programId": "{program}", "customer": "jane", "code": "J1",
          "expiresAt": "2001-01-01T00:00:00Z"}, "expiresAt"),
    ],
)
def test_bad_codes_are_422_and_write_nothing(api, body, field):
    customers(api, "jane")
    created = program(api)
    body = {k: (created["id"] if v == "{program}" else v) for k, v in body.items()}
    assert field in fields_of(api.post(f"{REWARDS}?action=code", body))
    assert not ReferralCode.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"code": "JANE20", "customer": "friend"}, "programId"),
        ({"programId": "{program}", "customer": "friend"}, "code"),
        ({"programId": "{program}", "code": "JANE20"}, "customer"),
        ({"programId": "{program}", "code": 20, "customer": "friend"}, "code"),
        ({"programId": "{program}", "code": "JANE20", "customer": None}, "customer"),
    ],
)
def test_bad_redemptions_are_422_and_write_nothing(api, body, field):
    customers(api, "jane", "friend")
    created = program(api)
    referral_code(api, created["id"])
    body = {k: (created["id"] if v == "{program}" else v) for k, v in body.items()}
    assert field in fields_of(api.post(f"{REWARDS}?action=redeem", body))
    assert not ReferralRedemption.objects.exists() and not Coupon.objects.exists()


def test_an_unknown_action_is_422(api):
    assert fields_of(api.post(f"{REWARDS}?action=refund", PROGRAM)) == ["action"]


def test_rewards_need_a_secret_key_and_a_key(api, public_api):
    for response in (public_api.post(REWARDS, PROGRAM), public_api.get(REWARDS),
                     public_api.get(f"{REWARDS}?customer=jane"),
                     public_api.post(f"{REWARDS}?action=code", {}),
                     public_api.post(f"{REWARDS}?action=redeem", {})):
        assert response.status_code == 403 and error_of(response)["code"] == "FORBIDDEN"
    for response in (Api(None).post(REWARDS, PROGRAM), Api(None).get(REWARDS),
                     Api(None).post(f"{REWARDS}?action=redeem", {})):
        assert response.status_code == 401
    assert not RewardProgram.objects.exists()


def test_another_merchants_or_lives_programs_are_not_found(api, live_api, other_merchant):
    customers(api, "jane", "friend")
    created = program(api)
    referral_code(api, created["id"])
    for stranger in (live_api, Api(other_merchant.secret_test)):
        customers(stranger, "jane", "friend")
        assert data_of(stranger.get(REWARDS)) == []
        assert data_of(stranger.get(f"{REWARDS}?customer=jane")) == []
        assert error_of(redeem(stranger, created["id"], "friend"))["code"] == "NOT_FOUND"
        response = stranger.post(f"{REWARDS}?action=code",
                                 {"programId": created["id"], "customer": "jane", "code": "X1"})
        assert error_of(response)["code"] == "NOT_FOUND"
    assert ReferralRedemption.objects.count() == 0


def test_a_redemption_is_audited(api):
    customers(api, "jane", "friend")
    created = program(api)
    referral_code(api, created["id"])
    data_of(redeem(api, created["id"], "friend"))
    events = {e["event"] for e in data_of(api.get("/api/v1/pay/audit?limit=50"))}
    assert {"reward_program.created", "referral_code.created", "referral.redeemed",
            "coupon.created"} <= events

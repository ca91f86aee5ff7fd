"""Referral redemptions racing each other: limits hold exactly and crossing pairs never
deadlock (real threads, real PostgreSQL)."""

import pytest

from billing.models import Coupon, ReferralRedemption, RewardProgram
from tests.billing.test_rewards import PROGRAM, REWARDS, customers, program, referral_code
from tests.factories import Api, make_merchant
from tests.threads import race

pytestmark = pytest.mark.django_db(transaction=True)


def _race(key: str, bodies: list[dict]) -> list[int]:
    """POST each body to /rewards?action=redeem from its own thread, all at once."""
    return race([
        lambda body=body: Api(key).post(f"{REWARDS}?action=redeem", body).status_code
        for body in bodies
    ])


def test_fifteen_friends_racing_for_janes_three_referrals_leave_exactly_three():
    keys = make_merchant()
    api = Api(keys.secret_test)
    friends = [f"friend_{n}" for n in range(15)]
    customers(api, "jane", *friends)
    capped = program(api, {**PROGRAM, "maxPerReferrer": 3})
    referral_code(api, capped["id"])
    referral_code(api, capped["id"], code="JANE-B")
    statuses = _race(keys.secret_test, [
        {"programId": capped["id"], "code": "JANE20" if n % 2 else "JANE-B", "customer": friend}
        for n, friend in enumerate(friends)
    ])
    assert sorted(statuses) == [200] * 3 + [409] * 12
    assert ReferralRedemption.objects.count() == 3
    assert RewardProgram.objects.get().times_redeemed == 3
    assert Coupon.objects.count() == 6  # one for each side of each referral


def test_one_friend_redeeming_many_codes_at_once_is_referred_once():
    keys = make_merchant()
    api = Api(keys.secret_test)
    referrers = [f"referrer_{n}" for n in range(8)]
    customers(api, "friend", *referrers)
    created = program(api, {"name": "Credit", "rewardType": "credit", "rewardValue": 500})
    for n, referrer in enumerate(referrers):
        referral_code(api, created["id"], customer=referrer, code=f"CODE{n}")
    statuses = _race(keys.secret_test, [
        {"programId": created["id"], "code": f"CODE{n}", "customer": "friend"}
        for n in range(len(referrers))
    ])
    assert sorted(statuses) == [200] + [409] * 7
    assert ReferralRedemption.objects.count() == 1


def test_two_customers_redeeming_each_others_codes_at_once_both_succeed():
    keys = make_merchant()
    api = Api(keys.secret_test)
    customers(api, "ana", "ben")
    created = program(api)
    referral_code(api, created["id"], customer="ana", code="ANA")
    referral_code(api, created["id"], customer="ben", code="BEN")
    for _ in range(3):
        ReferralRedemption.objects.all().delete()
        statuses = _race(keys.secret_test, [
            {"programId": created["id"], "code": "ANA", "customer": "ben"},
            {"programId": created["id"], "code": "BEN", "customer": "ana"},
        ])
        assert statuses == [200, 200]

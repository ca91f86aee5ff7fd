"""The console: coupons with their redemptions, edits through the service, rewards read-only."""

from __future__ import annotations

import pytest

from billing.models import AuditEvent, Coupon, ReferralRedemption, RewardProgram
from tests.billing.test_coupons import COUPONS, SAVE20
from tests.billing.test_rewards import PROGRAM, customers, program, redeem, referral_code
from tests.factories import data_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def referral(api):
    customers(api, "jane", "friend")
    created = program(api, {**PROGRAM, "rewardType": "credit", "rewardValue": 500})
    referral_code(api, created["id"])
    data_of(redeem(api, created["id"], "friend"))
    return created


def test_every_coupon_and_reward_page_opens(operator, api, referral):
    coupon = data_of(api.post(COUPONS, SAVE20), 201)
    pages = ["/admin/billing/coupon/", f"/admin/billing/coupon/{coupon['id']}/change/",
             "/admin/billing/rewardprogram/",
             f"/admin/billing/rewardprogram/{referral['id']}/change/",
             "/admin/billing/referralredemption/",
             f"/admin/billing/referralredemption/{ReferralRedemption.objects.get().pk}/change/",
             "/admin/billing/customercredit/", "/admin/billing/freeproductgrant/"]
    for page in pages:
        assert operator.get(page).status_code == 200, page
    assert operator.get("/admin/billing/coupon/add/").status_code == 403


def test_staff_edit_a_coupons_limit_through_the_service(operator, api):
    coupon = data_of(api.post(COUPONS, {**SAVE20, "maxRedemptions": 10}), 201)
    Coupon.objects.filter(pk=coupon["id"]).update(times_redeemed=4)
    form = {"name": "Staff name", "status": "active", "max_redemptions": "3",
            "max_redemptions_per_customer": "1", "valid_until_0": "", "valid_until_1": "",
            "metadata": "{}", "redemptions-TOTAL_FORMS": "0", "redemptions-INITIAL_FORMS": "0"}
    operator.post(f"/admin/billing/coupon/{coupon['id']}/change/", form)
    assert Coupon.objects.get(pk=coupon["id"]).max_redemptions == 10  # below 4 made: refused
    operator.post(f"/admin/billing/coupon/{coupon['id']}/change/",
                  {**form, "max_redemptions": "6"})
    saved = Coupon.objects.get(pk=coupon["id"])
    assert (saved.max_redemptions, saved.name) == (6, "Staff name")
    assert AuditEvent.objects.filter(event="coupon.updated", resource_id=coupon["id"]).exists()


def test_the_archive_actions_archive(operator, api, referral):
    coupon = data_of(api.post(COUPONS, SAVE20), 201)
    operator.post("/admin/billing/coupon/", {"action": "archive_coupons",
                                             "_selected_action": [coupon["id"]]})
    assert Coupon.objects.get(pk=coupon["id"]).status == "archived"
    operator.post("/admin/billing/rewardprogram/", {"action": "archive_programs",
                                                    "_selected_action": [referral["id"]]})
    assert RewardProgram.objects.get(pk=referral["id"]).status == "archived"
    assert data_of(api.get(COUPONS))[0]["status"] == "archived"

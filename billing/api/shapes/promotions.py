"""Coupons and referral rewards (API.md, Webhooks, coupons, …; docs/coupons.md)."""

from __future__ import annotations

from rest_framework import serializers as s

from billing.models import Coupon, RewardProgram


class CouponShape(s.Serializer):
    """`value` is percent, minor units or days by `type`; `productIds` empty: any product."""

    id = s.CharField()
    code = s.CharField()
    name = s.CharField(allow_null=True)
    type = s.ChoiceField(choices=Coupon.Type.choices)
    value = s.IntegerField()
    duration = s.ChoiceField(choices=Coupon.Duration.choices)
    durationMonths = s.IntegerField(allow_null=True)
    redemptionCount = s.IntegerField()
    maxRedemptions = s.IntegerField(allow_null=True)
    maxRedemptionsPerCustomer = s.IntegerField()
    minimumAmount = s.IntegerField(allow_null=True)
    productIds = s.ListField(child=s.CharField())
    customerId = s.CharField(allow_null=True, help_text="Set on a one-customer reward coupon.")
    status = s.ChoiceField(choices=Coupon.Status.choices)
    validFrom = s.DateTimeField(allow_null=True)
    validUntil = s.DateTimeField(allow_null=True)
    metadata = s.DictField(allow_null=True)
    createdAt = s.DateTimeField()
    updatedAt = s.DateTimeField()


class CouponValidationShape(s.Serializer):
    """`valid: false` with a `message` for the customer, or the discount it would give."""

    valid = s.BooleanField()
    message = s.CharField(required=False)
    discountAmount = s.IntegerField(required=False)
    finalAmount = s.IntegerField(required=False)
    couponType = s.ChoiceField(choices=Coupon.Type.choices, required=False)
    duration = s.ChoiceField(choices=Coupon.Duration.choices, required=False)


class ArchivedShape(s.Serializer):
    archived = s.BooleanField()


class RewardProgramShape(s.Serializer):
    id = s.CharField()
    name = s.CharField()
    rewardType = s.ChoiceField(choices=RewardProgram.RewardType.choices)
    rewardValue = s.IntegerField()
    rewardProductId = s.CharField(allow_null=True)
    currency = s.CharField()
    trigger = s.ChoiceField(choices=RewardProgram.Trigger.choices)
    status = s.ChoiceField(choices=RewardProgram.Status.choices)
    maxRedemptions = s.IntegerField(allow_null=True)
    maxPerReferrer = s.IntegerField(allow_null=True)
    redemptionCount = s.IntegerField()
    metadata = s.DictField(allow_null=True)
    createdAt = s.DateTimeField()


class ReferralCodeShape(s.Serializer):
    id = s.CharField()
    programId = s.CharField()
    code = s.CharField()
    customerId = s.CharField(help_text="The referrer's id (`pcm_…`).")
    redemptionCount = s.IntegerField()
    maxRedemptions = s.IntegerField(allow_null=True)
    expiresAt = s.DateTimeField(allow_null=True)
    createdAt = s.DateTimeField()


class RewardGivenShape(s.Serializer):
    """What one side got: a coupon (`couponId`, `couponCode`, `value`), a credit (`creditId`,
    `amount`, `currency`) or free periods of a product (`grantId`, `productId`, `periods`,
    `status`), by `type`."""

    type = s.ChoiceField(choices=RewardProgram.RewardType.choices)
    customerId = s.CharField()
    couponId = s.CharField(required=False)
    couponCode = s.CharField(required=False)
    value = s.IntegerField(required=False)
    creditId = s.CharField(required=False)
    amount = s.IntegerField(required=False)
    currency = s.CharField(required=False)
    grantId = s.CharField(required=False)
    productId = s.CharField(required=False)
    periods = s.IntegerField(required=False)
    status = s.CharField(required=False)


class ReferralRedemptionShape(s.Serializer):
    redeemed = s.BooleanField()
    redemptionId = s.CharField()
    programId = s.CharField()
    referralCodeId = s.CharField()
    referrerId = s.CharField()
    refereeId = s.CharField()
    referrerReward = RewardGivenShape()
    refereeReward = RewardGivenShape()

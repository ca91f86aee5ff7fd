"""`/rewards` (secret keys only): one path, dispatched on the query string as the client calls it.

    POST /rewards                  create a program          -> RewardProgram
    GET  /rewards                  list programs             -> RewardProgram[]
    POST /rewards?action=code      create a referral code    -> ReferralCode
    GET  /rewards?customer=X       a referrer's codes        -> ReferralCode[]
    POST /rewards?action=redeem    redeem a code             -> {redeemed, referrerReward, …}
"""

from __future__ import annotations

from rest_framework import serializers

from billing.api.actors import actor_of
from billing.api.coupon_input import code_field, count_field
from billing.api.product_input import MAX_AMOUNT, CurrencyField
from billing.api.shapes.promotions import (
    ReferralCodeShape,
    ReferralRedemptionShape,
    RewardProgramShape,
)
from billing.models import RewardProgram
from billing.selectors.catalog import product_find
from billing.selectors.customers import customer_find
from billing.selectors.rewards import referral_codes_of, reward_programs_of
from billing.services import rewards as reward_services
from cynco import clock
from cynco.api.schema import PageOf, openapi, query_param
from cynco.api.views import ApiView
from cynco.errors import ProductNotFound, ValidationFailed
from cynco.fields import StrictCharField, StrictIntegerField, StrictJSONObjectField
from cynco.responses import ok, page_of, paginated

ACTIONS = ("code", "redeem")
MAX_FREE_PERIODS = 120


class ProgramInput(serializers.Serializer):
    name = StrictCharField(max_length=200)
    rewardType = serializers.ChoiceField(choices=RewardProgram.RewardType.choices)
    rewardValue = StrictIntegerField(min_value=1, max_value=MAX_AMOUNT)
    rewardProductId = StrictCharField(max_length=100, required=False, allow_null=True)
    currency = CurrencyField(required=False)
    trigger = serializers.ChoiceField(choices=RewardProgram.Trigger.choices, required=False)
    maxRedemptions = count_field(required=False, allow_null=True)
    maxPerReferrer = count_field(required=False, allow_null=True)
    metadata = StrictJSONObjectField(required=False, allow_null=True)

    def validate(self, values):
        kind, value = values["rewardType"], values["rewardValue"]
        if kind == "percentage_discount" and value > 100:
            raise serializers.ValidationError({"rewardValue": "At most 100 percent."})
        if kind == "free_product" and value > MAX_FREE_PERIODS:
            raise serializers.ValidationError(
                {"rewardValue": f"At most {MAX_FREE_PERIODS} free billing periods."}
            )
        if kind == "free_product" and not values.get("rewardProductId"):
            raise serializers.ValidationError(
                {"rewardProductId": "Required for a free_product reward."}
            )
        return values


class CodeInput(serializers.Serializer):
    programId = StrictCharField(max_length=40)
    customer = StrictCharField(max_length=255)
    code = code_field()
    maxRedemptions = count_field(required=False, allow_null=True)
    expiresAt = serializers.DateTimeField(required=False, allow_null=True)


class RedeemInput(serializers.Serializer):
    programId = StrictCharField(max_length=40)
    code = StrictCharField(max_length=255)
    customer = StrictCharField(max_length=255)


def program_data(program: RewardProgram) -> dict:
    """The client's `RewardProgram`, plus its limits, product, currency and redemptionCount."""
    return {
        "id": program.id,
        "name": program.name,
        "rewardType": program.reward_type,
        "rewardValue": program.reward_value,
        "rewardProductId": program.reward_product_id,
        "currency": program.currency,
        "trigger": program.trigger,
        "status": program.status,
        "maxRedemptions": program.max_redemptions,
        "maxPerReferrer": program.max_per_referrer,
        "redemptionCount": program.times_redeemed,
        "metadata": program.metadata,
        "createdAt": program.created_at,
    }


def code_data(code) -> dict:
    """The client's `ReferralCode`; `customerId` is the referrer's id (`pcm_…`)."""
    return {
        "id": code.id,
        "programId": code.program_id,
        "code": code.code,
        "customerId": code.customer_id,
        "redemptionCount": code.times_redeemed,
        "maxRedemptions": code.max_redemptions,
        "expiresAt": code.expires_at,
        "createdAt": code.created_at,
    }


def _parsed(serializer_class, request) -> dict:
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    return data.validated_data


class RewardsView(ApiView):
    @openapi("rewards_list", summary="Reward programs, or a referrer's codes",
             description="Without `customer`: the programs. With it: that customer's referral "
                         "codes.",
             query=[query_param("customer", "A referrer's external id.")],
             data=(PageOf(RewardProgramShape), PageOf(ReferralCodeShape)), errors=(404,))
    def get(self, request):
        page = page_of(request)
        customer_ref = request.query_params.get("customer")
        if customer_ref is not None:
            codes = referral_codes_of(customer_find(self.scope, customer_ref))
            return paginated(
                [code_data(c) for c in page.slice(codes)], total=codes.count(), page=page
            )
        programs = reward_programs_of(self.scope)
        return paginated(
            [program_data(p) for p in page.slice(programs)], total=programs.count(), page=page
        )

    @openapi("rewards_create", summary="Create a program, create a code, or redeem a code",
             description="No `action`: the body is a RewardProgramInput and the answer a "
                         "RewardProgram. `action=code`: ReferralCodeInput, answered with a "
                         "ReferralCode. `action=redeem`: ReferralRedeemInput; both customers "
                         "are rewarded in one transaction.",
             query=[query_param("action", "What to do besides creating a program.",
                                enum=list(ACTIONS))],
             input=(ProgramInput, CodeInput, RedeemInput),
             data=(RewardProgramShape, ReferralCodeShape, ReferralRedemptionShape),
             status=(200, 201), errors=(404,))
    def post(self, request):
        action = request.query_params.get("action")
        if action is None:
            return self._create_program(request)
        if action not in ACTIONS:
            raise ValidationFailed.field("action", f"Must be one of: {', '.join(ACTIONS)}.")
        return self._create_code(request) if action == "code" else self._redeem(request)

    def _create_program(self, request):
        values = _parsed(ProgramInput, request)
        product = None
        if values.get("rewardProductId"):
            try:
                product = product_find(self.scope, values["rewardProductId"])
            except ProductNotFound as missing:
                raise ValidationFailed.field("rewardProductId", missing.message) from missing
        program = reward_services.reward_program_create(
            scope=self.scope, name=values["name"], reward_type=values["rewardType"],
            reward_value=values["rewardValue"], reward_product=product,
            currency=values.get("currency"),
            trigger=values.get("trigger", RewardProgram.Trigger.REFERRAL_SIGNUP),
            max_redemptions=values.get("maxRedemptions"),
            max_per_referrer=values.get("maxPerReferrer"), metadata=values.get("metadata"),
            actor=actor_of(request),
        )
        return ok(program_data(program), status=201)

    def _create_code(self, request):
        values = _parsed(CodeInput, request)
        code = reward_services.referral_code_create(
            scope=self.scope, program_id=values["programId"],
            customer=customer_find(self.scope, values["customer"]), code=values["code"],
            max_redemptions=values.get("maxRedemptions"), expires_at=values.get("expiresAt"),
            at=clock.now(self.scope), actor=actor_of(request),
        )
        return ok(code_data(code), status=201)

    def _redeem(self, request):
        values = _parsed(RedeemInput, request)
        redemption = reward_services.referral_redeem(
            scope=self.scope, program_id=values["programId"], code=values["code"],
            referee=customer_find(self.scope, values["customer"]), at=clock.now(self.scope),
            actor=actor_of(request),
        )
        return ok({
            "redeemed": True,
            "redemptionId": redemption.id,
            "programId": redemption.program_id,
            "referralCodeId": redemption.referral_code_id,
            "referrerId": redemption.referrer_id,
            "refereeId": redemption.referee_id,
            "referrerReward": redemption.referrer_reward,
            "refereeReward": redemption.referee_reward,
        })

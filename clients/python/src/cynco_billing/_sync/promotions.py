# Generated from _async/ by scripts/generate_sync.py: edit the async source instead.
"""Coupons and referral rewards.

(The sync client is generated from this async code: scripts/generate_sync.py.)"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cynco_billing._sync.http import SyncHttp
from cynco_billing._transport import NOT_GIVEN, Call, NotGiven, Page, changing, compact, segment
from cynco_billing.models import (
    Archived,
    Coupon,
    CouponValidation,
    ReferralCode,
    ReferralRedemption,
    RewardProgram,
)


class SyncPromotionsApi(SyncHttp):
    def create_coupon(
        self, code: str, type: str, value: int, duration: str, *, name: str | None = None,
        duration_months: int | None = None, max_redemptions: int | None = None,
        max_redemptions_per_customer: int | None = None, minimum_amount: int | None = None,
        product_ids: Sequence[str] | None = None, valid_from: datetime | str | None = None,
        valid_until: datetime | str | None = None, metadata: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Coupon:
        """`type`: percentage, fixed or trial_extension; `duration`: once, repeating (with
        `duration_months`) or forever."""
        body = compact(code=code, name=name, type=type, value=value, duration=duration,
                       durationMonths=duration_months, maxRedemptions=max_redemptions,
                       maxRedemptionsPerCustomer=max_redemptions_per_customer,
                       minimumAmount=minimum_amount,
                       productIds=list(product_ids) if product_ids is not None else None,
                       validFrom=valid_from, validUntil=valid_until, metadata=metadata)
        return self._one(Coupon, Call("POST", "/api/v1/pay/coupons", body=body,
                                             idempotency_key=changing(idempotency_key)))

    def list_coupons(self, *, limit: int | None = None,
                           offset: int | None = None) -> Page[Coupon]:
        return self._page(Coupon, Call("GET", "/api/v1/pay/coupons", params={
            "limit": limit, "offset": offset}))

    def get_coupon(self, id: str) -> Coupon:
        return self._one(Coupon, Call("GET", f"/api/v1/pay/coupons/{segment(id)}"))

    def update_coupon(
        self, id: str, *, name: str | None | NotGiven = NOT_GIVEN,
        status: str | None = None, max_redemptions: int | None | NotGiven = NOT_GIVEN,
        max_redemptions_per_customer: int | None = None,
        valid_until: datetime | str | None | NotGiven = NOT_GIVEN,
        metadata: Mapping[str, Any] | None = None, idempotency_key: str | None = None,
    ) -> Coupon:
        """Change a coupon; None for `name`, `max_redemptions` or `valid_until` clears it."""
        body = compact(status=status, maxRedemptionsPerCustomer=max_redemptions_per_customer,
                       metadata=metadata)
        for wire, given in (("name", name), ("maxRedemptions", max_redemptions),
                            ("validUntil", valid_until)):
            if given is not NOT_GIVEN:
                body[wire] = given
        return self._one(Coupon, Call("PATCH", f"/api/v1/pay/coupons/{segment(id)}",
                                             body=body, idempotency_key=changing(idempotency_key)))

    def archive_coupon(self, id: str, *, idempotency_key: str | None = None) -> Archived:
        return self._one(Archived, Call("DELETE", f"/api/v1/pay/coupons/{segment(id)}",
                                               idempotency_key=changing(idempotency_key)))

    def validate_coupon(self, code: str, customer: str, product: str,
                              amount: int) -> CouponValidation:
        """Would `code` apply to `customer` buying `product` for `amount` (minor units)?
        An invalid code answers `valid=False` with a `message`, not an error."""
        body = {"code": code, "customer": customer, "product": product, "amount": amount}
        return self._one(CouponValidation, Call("POST", "/api/v1/pay/coupons/validate",
                                                       body=body))

    def create_reward_program(
        self, name: str, reward_type: str, reward_value: int, *,
        reward_product_id: str | None = None, currency: str | None = None,
        trigger: str | None = None, max_redemptions: int | None = None,
        max_per_referrer: int | None = None, metadata: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> RewardProgram:
        """`reward_type`: free_product, percentage_discount, fixed_discount or credit;
        `trigger`: referral_signup or referral_subscribe."""
        body = compact(name=name, rewardType=reward_type, rewardValue=reward_value,
                       rewardProductId=reward_product_id, currency=currency, trigger=trigger,
                       maxRedemptions=max_redemptions, maxPerReferrer=max_per_referrer,
                       metadata=metadata)
        return self._one(RewardProgram, Call("POST", "/api/v1/pay/rewards", body=body,
                                                    idempotency_key=changing(idempotency_key)))

    def list_reward_programs(self) -> Page[RewardProgram]:
        return self._page(RewardProgram, Call("GET", "/api/v1/pay/rewards"))

    def create_referral_code(
        self, program_id: str, customer: str, code: str, *,
        max_redemptions: int | None = None, expires_at: datetime | str | None = None,
        idempotency_key: str | None = None,
    ) -> ReferralCode:
        """A code `customer` (the referrer) hands out."""
        body = compact(programId=program_id, customer=customer, code=code,
                       maxRedemptions=max_redemptions, expiresAt=expires_at)
        return self._one(ReferralCode, Call(
            "POST", "/api/v1/pay/rewards", params={"action": "code"}, body=body,
            idempotency_key=changing(idempotency_key)))

    def list_referral_codes(self, customer: str) -> Page[ReferralCode]:
        return self._page(ReferralCode, Call("GET", "/api/v1/pay/rewards",
                                                    params={"customer": customer}))

    def redeem_referral_code(self, program_id: str, code: str, customer: str, *,
                                   idempotency_key: str | None = None) -> ReferralRedemption:
        """`customer` (the referee) redeems `code`: both sides are rewarded, or neither."""
        body = {"programId": program_id, "code": code, "customer": customer}
        return self._one(ReferralRedemption, Call(
            "POST", "/api/v1/pay/rewards", params={"action": "redeem"}, body=body,
            idempotency_key=changing(idempotency_key)))

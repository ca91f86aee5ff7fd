"""Writes of referral rewards: programs, referral codes, and redeeming a code.

Redeeming rewards both sides in one transaction: the referrer (who owns the code) and the
referee (who redeems it) each get the program's reward. Both customers' locks are taken, in
the order of their ids so two redemptions crossing the same pair never deadlock; then the
program row and the code row, in that order, so the program's and the code's limits are exact.
The referrer's lock makes `maxPerReferrer` exact (every redemption of their codes holds it), and
a unique index makes "once per referee per program" exact.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from django.db import transaction
from django.db.models import F

from billing.models import (
    Coupon,
    Customer,
    CustomerCredit,
    FreeProductGrant,
    Product,
    ReferralCode,
    ReferralRedemption,
    RewardProgram,
)
from billing.selectors.rewards import referral_code_in, reward_program_get
from billing.services.audit import Actor, audit_record
from billing.services.coupons import code_unique, coupon_create
from billing.services.free_product_grants import free_product_grant_fulfil
from cynco.errors import Conflict, ValidationFailed
from cynco.locks import lock_customer
from cynco.models import Merchant
from cynco.tenancy import Scope

REWARD_COUPON_TYPES = {
    RewardProgram.RewardType.PERCENTAGE_DISCOUNT: Coupon.Type.PERCENTAGE,
    RewardProgram.RewardType.FIXED_DISCOUNT: Coupon.Type.FIXED,
}
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"


def reward_program_create(
    *, scope: Scope, name: str, reward_type: str, reward_value: int, currency: str | None = None,
    reward_product: Product | None = None, trigger: str = "referral_signup",
    max_redemptions: int | None = None, max_per_referrer: int | None = None,
    metadata: dict | None = None, actor: Actor,
) -> RewardProgram:
    """A new active program; its money is in `currency` (default: the merchant's currency).

    Takes no lock; audits `reward_program.created`; posts no ledger entry.
    """
    if currency is None:
        currency = Merchant.objects.values_list("default_currency", flat=True).get(
            pk=scope.merchant_id
        )
    with transaction.atomic():
        program = RewardProgram.objects.create(
            merchant_id=scope.merchant_id, environment=scope.environment, name=name,
            reward_type=reward_type, reward_value=reward_value, reward_product=reward_product,
            currency=currency, trigger=trigger, max_redemptions=max_redemptions,
            max_per_referrer=max_per_referrer, metadata=metadata or {},
        )
        audit_record(
            scope=scope, event="reward_program.created", actor=actor,
            resource_type="reward_program", resource_id=program.id,
            details={"name": name, "rewardType": reward_type, "rewardValue": reward_value},
        )
    return program


def referral_code_create(
    *, scope: Scope, program_id: str, customer: Customer, code: str,
    max_redemptions: int | None = None, expires_at: datetime | None = None, at: datetime,
    actor: Actor,
) -> ReferralCode:
    """A code `customer` (the referrer) hands out in a program.

    Raises NotFound (program), Conflict (archived program, or the code is taken in any case),
    ValidationFailed (expiresAt not in the future). Takes no lock; audits
    `referral_code.created`; no ledger entry.
    """
    program = reward_program_get(scope, program_id)
    if program.status != RewardProgram.Status.ACTIVE:
        raise Conflict("This reward program is archived")
    if expires_at is not None and expires_at <= at:
        raise ValidationFailed.field("expiresAt", "Must be in the future.")
    with code_unique("referral_code_unique_ci", f"A referral code '{code}' already exists"):
        with transaction.atomic():
            referral_code = ReferralCode.objects.create(
                merchant_id=scope.merchant_id, environment=scope.environment, program=program,
                customer=customer, code=code, max_redemptions=max_redemptions,
                expires_at=expires_at,
            )
            audit_record(
                scope=scope, event="referral_code.created", actor=actor,
                customer_id=customer.id, resource_type="referral_code",
                resource_id=referral_code.id, details={"code": code, "programId": program.id},
            )
    return referral_code


def referral_redeem(
    *, scope: Scope, program_id: str, code: str, referee: Customer, at: datetime, actor: Actor,
) -> ReferralRedemption:
    """`referee` redeems a referrer's `code`: both get the program's reward, in one transaction.

    Locks: lock_customer of both customers (lower id first), then the program row, then the
    code row. Refusals: NotFound (program or code), ValidationFailed (one's own code),
    Conflict (archived program, expired code, already referred in this program, or a limit of
    the program, the referrer or the code reached); a refusal writes nothing. Audits
    `referral.redeemed`. Posts no ledger entry: a discount or credit is posted by the invoice
    that uses it, a free product by the subscription made from it.
    """
    program = reward_program_get(scope, program_id)
    referral_code = referral_code_in(program, code)
    referrer = referral_code.customer
    if referrer.pk == referee.pk:
        raise ValidationFailed.field(
            "customer", "A customer cannot redeem their own referral code."
        )
    with transaction.atomic():
        for customer_id in sorted((referrer.pk, referee.pk)):
            lock_customer(customer_id)
        program = RewardProgram.objects.select_for_update().get(pk=program.pk)
        referral_code = ReferralCode.objects.select_for_update().get(pk=referral_code.pk)
        _refuse_unless_redeemable(program, referral_code, referrer, referee, at)
        RewardProgram.objects.filter(pk=program.pk).update(times_redeemed=F("times_redeemed") + 1)
        ReferralCode.objects.filter(pk=referral_code.pk).update(
            times_redeemed=F("times_redeemed") + 1
        )
        redemption = ReferralRedemption.objects.create(
            merchant_id=scope.merchant_id, environment=scope.environment, program=program,
            referral_code=referral_code, referrer=referrer, referee=referee, created_at=at,
        )
        redemption.referrer_reward = _reward(scope, program, referrer, redemption, at, actor)
        redemption.referee_reward = _reward(scope, program, referee, redemption, at, actor)
        redemption.save(update_fields=["referrer_reward", "referee_reward"])
        audit_record(
            scope=scope, event="referral.redeemed", actor=actor, customer_id=referee.id,
            resource_type="referral_code", resource_id=referral_code.id,
            details={"programId": program.id, "redemptionId": redemption.id,
                     "referrerId": referrer.id, "refereeId": referee.id},
        )
        return redemption


def _refuse_unless_redeemable(
    program: RewardProgram, referral_code: ReferralCode, referrer: Customer, referee: Customer,
    at: datetime,
) -> None:
    if program.status != RewardProgram.Status.ACTIVE:
        raise Conflict("This reward program is archived")
    if referral_code.expires_at is not None and at >= referral_code.expires_at:
        raise Conflict("This referral code has expired")
    if program.redemptions.filter(referee=referee).exists():
        raise Conflict("This customer was already referred in this program")
    if program.max_redemptions is not None and program.times_redeemed >= program.max_redemptions:
        raise Conflict("This reward program has reached its redemption limit")
    if program.max_per_referrer is not None and (
        program.redemptions.filter(referrer=referrer).count() >= program.max_per_referrer
    ):
        raise Conflict("This referrer has reached the program's limit of referrals")
    if referral_code.max_redemptions is not None and (
        referral_code.times_redeemed >= referral_code.max_redemptions
    ):
        raise Conflict("This referral code has reached its redemption limit")


def _reward(
    scope: Scope, program: RewardProgram, customer: Customer, redemption: ReferralRedemption,
    at: datetime, actor: Actor,
) -> dict:
    """Give `customer` the program's reward; what they got, as the wire shows it."""
    common = {"type": program.reward_type, "customerId": customer.id}
    if program.reward_type in REWARD_COUPON_TYPES:
        coupon = coupon_create(
            scope=scope, code=_reward_coupon_code(), name=f"{program.name} reward",
            type=REWARD_COUPON_TYPES[program.reward_type], value=program.reward_value,
            duration=Coupon.Duration.ONCE, max_redemptions=1, max_redemptions_per_customer=1,
            products=[program.reward_product] if program.reward_product_id else [],
            customer=customer, metadata={"referralRedemptionId": redemption.id}, actor=actor,
        )
        return {**common, "couponId": coupon.id, "couponCode": coupon.code,
                "value": program.reward_value}
    if program.reward_type == RewardProgram.RewardType.CREDIT:
        credit = CustomerCredit.objects.create(
            merchant_id=scope.merchant_id, environment=scope.environment, customer=customer,
            amount=program.reward_value, remaining=program.reward_value,
            currency=program.currency, source=CustomerCredit.Source.REFERRAL,
            source_id=redemption.id, description=f"{program.name} reward", created_at=at,
        )
        return {**common, "creditId": credit.id, "amount": credit.amount,
                "currency": credit.currency}
    grant = FreeProductGrant.objects.create(
        merchant_id=scope.merchant_id, environment=scope.environment, customer=customer,
        product_id=program.reward_product_id, periods=program.reward_value,
        source_id=redemption.id, created_at=at,
    )
    grant = free_product_grant_fulfil(scope=scope, grant=grant, at=at, actor=actor)
    return {**common, "grantId": grant.id, "productId": grant.product_id,
            "periods": grant.periods, "status": grant.status}


def _reward_coupon_code() -> str:
    """A random code for a one-customer reward coupon, e.g. `REF-7KQ2MZ9XBT`."""
    return "REF-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))


def reward_program_archive(*, scope: Scope, program_id: str, actor: Actor) -> RewardProgram:
    """Archive a program: its codes stop redeeming at once; rewards already given stay.

    Locks the program row (so no redemption is half way through it). Takes no customer lock;
    audits `reward_program.archived`; posts no ledger entry. Archiving twice is harmless.
    """
    with transaction.atomic():
        program = reward_program_get(scope, program_id)
        program = RewardProgram.objects.select_for_update().get(pk=program.pk)
        if program.status != RewardProgram.Status.ARCHIVED:
            program.status = RewardProgram.Status.ARCHIVED
            program.save(update_fields=["status"])
            audit_record(
                scope=scope, event="reward_program.archived", actor=actor,
                resource_type="reward_program", resource_id=program.id, details={},
            )
    return program

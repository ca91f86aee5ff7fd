"""Reads of reward programs and referral codes."""

from __future__ import annotations

from django.db.models import QuerySet, Value
from django.db.models.functions import Lower

from billing.models import Customer, ReferralCode, RewardProgram
from cynco.errors import NotFound
from cynco.tenancy import Scope


def reward_programs_of(scope: Scope) -> QuerySet[RewardProgram]:
    """The scope's reward programs, newest first."""
    return RewardProgram.objects.for_scope(scope).order_by("-created_at", "-id")


def reward_program_get(scope: Scope, program_id: str) -> RewardProgram:
    """The program `program_id` of this scope; NotFound (404) otherwise."""
    program = reward_programs_of(scope).filter(pk=program_id).first()
    if program is None:
        raise NotFound(f"No reward program '{program_id}'")
    return program


def referral_codes_of(customer: Customer) -> QuerySet[ReferralCode]:
    """The codes `customer` hands out as a referrer, oldest first."""
    return customer.referral_codes.order_by("created_at", "id")


def referral_code_in(program: RewardProgram, code: str) -> ReferralCode:
    """The code `code` (any case) of `program`; NotFound (404) otherwise."""
    found = (
        program.codes.alias(code_ci=Lower("code")).filter(code_ci=Lower(Value(code)))
        .select_related("customer").first()
    )
    if found is None:
        raise NotFound(f"No referral code '{code}' in this program")
    return found

"""The merchant's own set-up and figures: coupons, rewards, webhooks, API keys, audit,
analytics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cynco_billing.models.base import Model


class Coupon(Model):
    """`type`: percentage (value in percent), fixed (minor units) or trial_extension (days);
    `duration`: once, repeating (`duration_months`) or forever."""

    id: str
    code: str
    name: str | None = None
    type: str
    value: int
    duration: str
    duration_months: int | None = None
    redemption_count: int = 0
    max_redemptions: int | None = None
    max_redemptions_per_customer: int | None = None
    minimum_amount: int | None = None
    product_ids: list[str] = []
    customer_id: str | None = None
    status: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    metadata: dict[str, Any] | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class CouponValidation(Model):
    """An invalid code is not an error: `valid` is False and `message` says why."""

    valid: bool
    message: str | None = None
    discount_amount: int | None = None
    final_amount: int | None = None
    coupon_type: str | None = None
    duration: str | None = None


class RewardProgram(Model):
    id: str
    name: str
    reward_type: str
    reward_value: int
    reward_product_id: str | None = None
    currency: str | None = None
    trigger: str | None = None
    status: str | None = None
    max_redemptions: int | None = None
    max_per_referrer: int | None = None
    redemption_count: int = 0
    metadata: dict[str, Any] | None = None
    created_at: datetime | None = None


class ReferralCode(Model):
    id: str
    program_id: str
    code: str
    customer_id: str
    redemption_count: int = 0
    max_redemptions: int | None = None
    expires_at: datetime | None = None
    created_at: datetime | None = None


class RewardGiven(Model):
    type: str
    customer_id: str
    coupon_id: str | None = None
    coupon_code: str | None = None
    value: int | None = None
    credit_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    grant_id: str | None = None
    product_id: str | None = None
    periods: int | None = None
    status: str | None = None


class ReferralRedemption(Model):
    redeemed: bool
    redemption_id: str | None = None
    program_id: str | None = None
    referral_code_id: str | None = None
    referrer_id: str | None = None
    referee_id: str | None = None
    referrer_reward: RewardGiven | None = None
    referee_reward: RewardGiven | None = None


class WebhookEndpoint(Model):
    """`secret` (`whsec_…`) is given once, in the answer of `create_webhook`."""

    id: str
    url: str
    events: list[str] | None = None
    status: str | None = None
    secret: str | None = None


class ApiKey(Model):
    """`raw_key` is given once, in the answer of `create_api_key` (None in lists and in a
    replayed answer)."""

    id: str
    name: str
    type: str
    key_prefix: str
    environment: str
    scopes: list[str] = []
    last_used_at: datetime | None = None
    created_at: datetime | None = None
    status: str
    raw_key: str | None = None


class AuditEvent(Model):
    id: str
    event: str
    actor_type: str
    actor_key_id: str | None = None
    customer_map_id: str | None = None
    subscription_id: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    details: dict[str, Any] = {}
    created_at: datetime


class Analytics(Model):
    """Money in minor units; rates in percent (2.5 means 2.5%)."""

    mrr: int
    arr: int
    active_subscriptions: int
    arpu: int
    churn_rate: float
    trial_conversion_rate: float
    currency: str | None = None


class RevenueMonth(Model):
    month: str
    revenue: int
    new_subscriptions: int
    churned: int


class InvoiceIdentity(Model):
    """How the merchant appears on invoices, credit notes and emails; `logo_url` is served by
    the billing server (None: no logo)."""

    legal_name: str
    address: str
    footer: str
    number_prefix: str
    logo_url: str | None = None


class EmailSettings(Model):
    """`kinds`: each billing email (payment_receipt, payment_failed, …) on or off."""

    sender_name: str
    reply_to: str
    send_in_test_mode: bool
    trial_ending_days: int
    renewal_notice_days: int
    kinds: dict[str, bool]


class BillingSettings(Model):
    """The merchant's invoice identity and email settings (shared by live and test)."""

    invoice: InvoiceIdentity
    emails: EmailSettings

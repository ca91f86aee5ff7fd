"""Subscribing, changing and cancelling; invoices; the portal; the test helpers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from cynco_billing.models.base import Model
from cynco_billing.models.catalog import PreviewLine
from cynco_billing.models.customers import SubscriptionSummary


class RequiredAction(Model):
    """`code`: payment_failed or 3ds_required; send the customer to the result's `url`."""

    code: str
    reason: str


class SubscribeResult(Model):
    """`action`: checkout (send the customer to `url`), activated, scheduled (a downgrade,
    at `effective_at`) or noop (already subscribed)."""

    action: str
    url: str | None = None
    checkout_url: str | None = None
    checkout_id: str | None = None
    subscription: SubscriptionSummary | None = None
    effective_at: datetime | None = None
    proration_amount: int | None = None
    discount_amount: int | None = None
    required_action: RequiredAction | None = None


class CancelResult(Model):
    canceled: bool
    effective_at: datetime | None = None


class UpdatedSubscription(Model):
    id: str
    status: str
    product_slug: str
    quantity: int


class UpdateSubscriptionResult(Model):
    """`action`: canceled, canceled_immediately, uncanceled, paused, resumed,
    quantity_updated, or preview (from `preview_update`, which changes nothing)."""

    updated: bool
    action: str
    subscription: UpdatedSubscription | None = None
    line_items: list[PreviewLine] = []
    total: int | None = None
    refund_amount: int | None = None
    effective_at: datetime | None = None


class InvoiceLine(Model):
    type: str
    description: str
    quantity: Decimal
    unit_amount: int
    amount: int
    period_start: datetime | None = None
    period_end: datetime | None = None


class Invoice(Model):
    """`status`: draft, open, paid, void or uncollectible. `hosted_url` is a signed page the
    customer can open and print."""

    id: str
    number: str | None = None
    status: str
    customer_id: str
    subscription_id: str | None = None
    currency: str
    lines: list[InvoiceLine]
    subtotal: int
    discount_amount: int
    tax_amount: int
    total: int
    amount_paid: int
    amount_due: int
    period_start: datetime | None = None
    period_end: datetime | None = None
    created_at: datetime
    due_at: datetime | None = None
    paid_at: datetime | None = None
    hosted_url: str | None = None


class CreditNoteLine(Model):
    """`type`: refund, credit, write_off or tax; `amount` is positive (credited)."""

    type: str
    description: str
    amount: int


class CreditNote(Model):
    """A refund, a credit kept for later invoices or a write-off, with the tax it gives back.
    `type`: refund, credit or write_off; `total` = `subtotal` + `tax_amount`."""

    id: str
    number: str
    type: str
    customer_id: str
    invoice_id: str
    invoice_number: str | None = None
    refund_id: str | None = None
    currency: str
    lines: list[CreditNoteLine]
    subtotal: int
    tax_amount: int
    total: int
    reason: str = ""
    created_at: datetime


class PortalLink(Model):
    """A signed link to the customer's portal, valid for one hour."""

    url: str


class CheckoutCompletion(Model):
    """`status`: completed, failed or requires_action."""

    checkout_id: str
    status: str
    subscription: SubscriptionSummary | None = None
    required_action: RequiredAction | None = None
    url: str | None = None


class TestClock(Model):
    __test__ = False  # not a pytest test class

    now: datetime


class ClockRan(Model):
    renewals: int = 0
    invoices: int = 0
    trial_ends: int = 0
    downgrades: int = 0
    cancellations: int = 0
    resumes: int = 0
    dunning_steps: int = 0
    charges: int = 0
    failed_charges: int = 0
    lock_releases: int = 0
    checkout_expiries: int = 0


class ClockAdvance(Model):
    now: datetime
    ran: ClockRan

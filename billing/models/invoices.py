"""Invoices: what a customer owes for a period, a change of plan or a purchase.

An invoice is numbered when it is finalized (draft → open), from a counter row per merchant and
environment updated under its row lock in the finalizing transaction: a rolled-back invoice
rolls its number back too, so numbers have no gaps and no sequence is shared across merchants.
A period invoice (the first of a subscription's period, or its renewal) is unique per
(subscription, period start): a second renewal of the same period cannot be written.
"""

from __future__ import annotations

from django.db import models

from billing.models.catalog import USAGE_DIGITS
from cynco.history import model_history
from cynco.ids import new_id
from cynco.models import TenantModel

__all__ = ["Invoice", "InvoiceLine", "InvoiceNumberCounter"]


def new_invoice_id() -> str:
    return new_id("pinv")


def new_invoice_line_id() -> str:
    return new_id("pil")


class InvoiceNumberCounter(TenantModel):
    """The last invoice number given in one merchant's environment."""

    last_number = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "environment"], name="invoice_counter_unique"
            )
        ]


class Invoice(TenantModel):
    class Status(models.TextChoices):
        DRAFT = "draft"
        OPEN = "open"
        PAID = "paid"
        VOID = "void"
        UNCOLLECTIBLE = "uncollectible"

    class Reason(models.TextChoices):
        SUBSCRIPTION_CREATE = "subscription_create"  # the first period of a subscription
        SUBSCRIPTION_CYCLE = "subscription_cycle"  # a renewal (plus last period's overage)
        SUBSCRIPTION_UPDATE = "subscription_update"  # a quantity change mid-period
        PERIOD_CLOSE = "period_close"  # overage of a subscription's last period
        PURCHASE = "purchase"  # a one-time price

    PERIOD_REASONS = (Reason.SUBSCRIPTION_CREATE, Reason.SUBSCRIPTION_CYCLE, Reason.PERIOD_CLOSE)

    id = models.CharField(primary_key=True, max_length=40, default=new_invoice_id, editable=False)
    number = models.CharField(max_length=40, null=True, blank=True)
    status = models.CharField(max_length=13, choices=Status.choices, default=Status.DRAFT)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    customer = models.ForeignKey(
        "billing.Customer", on_delete=models.PROTECT, related_name="invoices"
    )
    subscription = models.ForeignKey(
        "billing.Subscription", null=True, blank=True, on_delete=models.PROTECT,
        related_name="invoices",
    )
    currency = models.CharField(max_length=3)
    subtotal = models.BigIntegerField(default=0)
    discount_amount = models.BigIntegerField(default=0)
    tax_amount = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    amount_paid = models.BigIntegerField(default=0)
    amount_due = models.BigIntegerField(default=0)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()  # business time
    due_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    # The payment attempt (gateways app) that paid or tried to pay it, as a plain id.
    payment_attempt_id = models.CharField(max_length=40, blank=True, default="")
    # The gateway that collected `amount_paid` ("" when nothing was paid in money): what the
    # reconciliation provider compares with the ledger's 1100-<gateway> clearing accounts.
    payment_gateway = models.CharField(max_length=32, blank=True, default="")
    history = model_history()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "period_start"],
                condition=models.Q(reason__in=["subscription_create", "subscription_cycle",
                                               "period_close"]),
                name="invoice_one_per_period",
            ),
            models.UniqueConstraint(
                fields=["merchant", "environment", "number"],
                condition=models.Q(number__isnull=False),
                name="invoice_number_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_due__gte=0), name="invoice_amount_due_gte_0"
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "status"], name="invoice_customer_idx"),
        ]

    def __str__(self) -> str:
        return self.number or self.id


class InvoiceLine(models.Model):
    class Type(models.TextChoices):
        SUBSCRIPTION = "subscription"
        PRORATION = "proration"
        OVERAGE = "overage"
        ONE_OFF = "one_off"
        SETUP_FEE = "setup_fee"
        DISCOUNT = "discount"
        TAX = "tax"

    id = models.CharField(
        primary_key=True, max_length=40, default=new_invoice_line_id, editable=False
    )
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    type = models.CharField(max_length=12, choices=Type.choices)
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(**USAGE_DIGITS)
    unit_amount = models.BigIntegerField()
    amount = models.BigIntegerField()
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    # The subscription this line bills, on an invoice that bills several (a multi-attach);
    # null: the invoice's own subscription. Refunds of one of them take only its share.
    subscription_id = models.CharField(max_length=40, null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="invoice_line_position")
        ]

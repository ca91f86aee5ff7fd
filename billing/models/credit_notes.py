"""Credit notes: the document of money or credit going back to a customer, tax included.

Every refund, credit and write-off is one (docs/accounting.md, "Tax follows the money back"):
lines with what is credited (positive amounts), the tax given back as its own line, totals,
and a number of its own series (`CN-000001` live, `CN-TEST-000001` test), from a counter row
per merchant and environment locked until the issuing transaction ends, so numbers have no
gaps. A credit note is posted as one journal entry (`journal_entry_id`), in the same
transaction. It is never changed once issued.
"""

from __future__ import annotations

from django.db import models

from cynco.ids import new_id
from cynco.models import TenantModel

__all__ = ["CreditNote", "CreditNoteLine", "CreditNoteNumberCounter"]


def new_credit_note_id() -> str:
    return new_id("pcn")


def new_credit_note_line_id() -> str:
    return new_id("pcnl")


class CreditNoteNumberCounter(TenantModel):
    """The last credit note number given in one merchant's environment."""

    last_number = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "environment"], name="credit_note_counter_unique"
            )
        ]


class CreditNote(TenantModel):
    class Type(models.TextChoices):
        REFUND = "refund"  # money back through the gateway that took it
        CREDIT = "credit"  # kept as customer credit (2100) for the next invoices
        WRITE_OFF = "write_off"  # what will not be collected of an open invoice

    id = models.CharField(primary_key=True, max_length=40, default=new_credit_note_id,
                          editable=False)
    number = models.CharField(max_length=40)
    type = models.CharField(max_length=9, choices=Type.choices)
    customer = models.ForeignKey(
        "billing.Customer", on_delete=models.PROTECT, related_name="credit_notes"
    )
    invoice = models.ForeignKey(
        "billing.Invoice", on_delete=models.PROTECT, related_name="credit_notes"
    )
    refund = models.OneToOneField(
        "billing.Refund", null=True, blank=True, on_delete=models.PROTECT,
        related_name="credit_note",
    )
    currency = models.CharField(max_length=3)
    subtotal = models.BigIntegerField()  # the lines but tax
    tax_amount = models.BigIntegerField()  # the tax given back
    total = models.BigIntegerField()  # subtotal + tax: what the customer gets back
    reason = models.CharField(max_length=200, blank=True, default="")
    journal_entry_id = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField()  # business time

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "environment", "number"],
                                    name="credit_note_number_unique"),
            models.CheckConstraint(condition=models.Q(total__gt=0, tax_amount__gte=0),
                                   name="credit_note_amounts"),
        ]
        indexes = [models.Index(fields=["customer", "created_at"],
                                name="credit_note_customer_idx")]

    def __str__(self) -> str:
        return self.number


class CreditNoteLine(models.Model):
    class Type(models.TextChoices):
        SUBSCRIPTION = "subscription"
        PRORATION = "proration"
        REFUND = "refund"
        WRITE_OFF = "write_off"
        CREDIT_USED = "credit_used"  # the part of a credit its own invoice used at once
        TAX = "tax"

    id = models.CharField(primary_key=True, max_length=40, default=new_credit_note_line_id,
                          editable=False)
    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    type = models.CharField(max_length=12, choices=Type.choices)
    description = models.CharField(max_length=500)
    amount = models.BigIntegerField()

    class Meta:
        ordering = ["credit_note", "position"]
        constraints = [
            models.UniqueConstraint(fields=["credit_note", "position"],
                                    name="credit_note_line_position")
        ]

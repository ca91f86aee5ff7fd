"""Issuing credit notes: the document of every refund, credit and write-off (billing.models.
credit_notes), with the tax it gives back (billing.tax) and the one journal entry it is posted
as (posted here for a write-off; by the caller for a refund or a credit, whose entry is
theirs). Every function runs inside its caller's transaction, which holds
lock_customer(customer) already; the only other lock is the credit note counter's row, held until that transaction
ends (numbers never skip).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Sum

from billing.models import CreditNote, CreditNoteLine, CreditNoteNumberCounter, Invoice
from billing.tax import tax_share
from cynco.tenancy import Scope
from ledger import rules as ledger

Type = CreditNote.Type
LineType = CreditNoteLine.Type


@dataclass(frozen=True)
class CreditLine:
    """One line of a credit note: positive is credited to the customer."""

    type: str
    description: str
    amount: int


def next_credit_note_number(scope: Scope) -> str:
    """`CN-000001` in live, `CN-TEST-000001` in test: the scope's counter, whose row lock is
    held until the caller's transaction ends (a rolled-back credit note gives its number back)."""
    table = CreditNoteNumberCounter._meta.db_table
    sql = (f"UPDATE {table} SET last_number = last_number + 1 "
           "WHERE merchant_id = %s AND environment = %s RETURNING last_number")
    with connection.cursor() as cursor:
        cursor.execute(sql, [scope.merchant_id, scope.environment])
        row = cursor.fetchone()
        if row is None:
            CreditNoteNumberCounter.objects.get_or_create(
                merchant_id=scope.merchant_id, environment=scope.environment)
            cursor.execute(sql, [scope.merchant_id, scope.environment])
            row = cursor.fetchone()
    return f"{'CN-TEST' if scope.is_test else 'CN'}-{row[0]:06d}"


def tax_inside(invoice: Invoice, amount: int) -> int:
    """The tax inside `amount` of money or receivable going back on `invoice`: its share of
    the invoice's tax (billing.tax.tax_share), never more than the tax its earlier credit
    notes left, and all of that when `amount` takes the last of the invoice's total."""
    so_far = CreditNote.objects.filter(invoice=invoice).aggregate(
        tax=Sum("tax_amount"), total=Sum("total"))
    return tax_share(amount, tax=invoice.tax_amount, total=invoice.total,
                     given_back=so_far["tax"] or 0, credited=so_far["total"] or 0)


def credit_note_issue(*, scope: Scope, type: str, invoice: Invoice, lines: list[CreditLine],
                      tax: int, at: datetime, entry, refund=None,
                      reason: str = "") -> CreditNote:
    """Write a numbered credit note of `lines` plus `tax` given back, on `invoice`, posted as
    `entry` (the journal entry the caller posted for it in this transaction). Caller's
    transaction and customer lock."""
    subtotal = sum(line.amount for line in lines)
    note = CreditNote.objects.create(
        merchant_id=scope.merchant_id, environment=scope.environment,
        number=next_credit_note_number(scope), type=type, customer_id=invoice.customer_id,
        invoice=invoice, refund=refund, currency=invoice.currency, subtotal=subtotal,
        tax_amount=tax, total=subtotal + tax, reason=reason[:200],
        journal_entry_id=entry.pk if entry is not None else "", created_at=at,
    )
    rows = [*lines]
    if tax:
        rows.append(CreditLine(LineType.TAX, "Tax given back", tax))
    CreditNoteLine.objects.bulk_create([
        CreditNoteLine(credit_note=note, position=index, type=line.type,
                       description=line.description[:500], amount=line.amount)
        for index, line in enumerate(rows)
    ])
    return note


def credit_kept_note(*, scope: Scope, invoice: Invoice, credits: list[tuple[str, int]],
                     used: int, tax: int, entry, at: datetime) -> CreditNote:
    """The credit an invoice could not use, kept as customer credit: a credit note of its
    credit lines (`credits`: description, amount credited), less what the invoice used at
    once, and the `tax` they give back, posted as the invoice's upgrade-credit `entry`."""
    rows = [CreditLine(LineType.PRORATION, description, amount)
            for description, amount in credits]
    if used:
        rows.append(CreditLine(LineType.CREDIT_USED, f"Used on invoice {invoice.number}",
                               -used))
    return credit_note_issue(scope=scope, type=Type.CREDIT, invoice=invoice, lines=rows,
                             tax=tax, at=at, entry=entry,
                             reason="Credit kept for the next invoices")


def write_off_note(*, scope: Scope, invoice: Invoice, at: datetime) -> CreditNote:
    """Write off what is due on `invoice`: its share of the invoice's tax given back, posted
    as one entry DR 6200 and DR 2300 / CR 1200 (ledger.rules.invoice_written_off)."""
    tax = tax_inside(invoice, invoice.amount_due)
    entry = ledger.invoice_written_off(scope=scope, invoice_id=invoice.id,
                                       amount=invoice.amount_due, tax=tax,
                                       currency=invoice.currency, date=at.date())
    return credit_note_issue(
        scope=scope, type=Type.WRITE_OFF, invoice=invoice,
        lines=[CreditLine(LineType.WRITE_OFF, f"Written off: invoice {invoice.number}",
                          invoice.amount_due - tax)],
        tax=tax, at=at, entry=entry, reason="Uncollectible")

"""Posting rules: one function per business event, each posting one balanced entry.

Billing calls these inside the transaction of the event (DESIGN.md, Ledger), with plain values:
amounts in minor units, an ISO currency, the id of the record that caused the event, the gateway
name. The ledger imports nothing from billing or the gateways. Each rule posts at most once per
source: calling it again (a retry, a redelivered webhook) returns the entry already posted.
`date` defaults to the business date of the scope's clock.

    invoice finalized   DR 1200 receivable (total), DR 4900 discount /
                        CR 4001 subscription, 4002 usage/overage, 4003 one-off, 2300 tax
    payment captured    DR 1100-<gateway> / CR 1200
    refund              DR 4910 (amount less its tax), DR 2300 tax / CR 1100-<gateway>
    unapplied payment   DR 1100-<gateway> / CR 2100   (its purpose was gone when it landed)
    …refunded           DR 2100 / CR 1100-<gateway>
    upgrade credit      DR 4001, DR 2300 tax / CR 2100   credit used  DR 2100 / CR 1200
    write-off           DR 6200 (amount less its tax), DR 2300 tax / CR 1200
    gateway fee         DR 6100 / CR 1100-<gateway>
    reversal            every line of the reversed entry, debit and credit swapped
"""

from __future__ import annotations

import re
from datetime import date as Date

from cynco import clock
from cynco.tenancy import Scope
from ledger import chart_of_accounts as chart
from ledger.models import EntryKind, JournalEntry, SourceType
from ledger.services.posting import (
    Line,
    PostingError,
    credit,
    debit,
    minor_units,
    post_entry,
)

GATEWAY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


def invoice_finalized(
    *,
    scope: Scope,
    invoice_id: str,
    currency: str,
    subscription: int = 0,
    usage: int = 0,
    one_off: int = 0,
    discount: int = 0,
    tax: int = 0,
    date: Date | None = None,
    memo: str = "",
) -> JournalEntry | None:
    """An invoice became final: the customer owes its total (an overage invoice is `usage`).

    Returns None for an invoice of nothing at all, which has no entry.
    """
    for name, amount in (("subscription", subscription), ("usage", usage), ("one_off", one_off),
                         ("discount", discount), ("tax", tax)):
        minor_units(name, amount)
    revenue = subscription + usage + one_off
    if discount > revenue:
        raise PostingError("a discount cannot exceed the invoice's lines")
    if not (revenue or tax):
        return None
    total = revenue - discount + tax
    return post_entry(
        scope=scope,
        source_type=SourceType.INVOICE,
        source_id=invoice_id,
        kind=EntryKind.INVOICE_FINALIZED,
        invoice_id=invoice_id,
        date=_date(scope, date),
        memo=memo or f"Invoice {invoice_id} finalized",
        lines=[
            debit(chart.RECEIVABLE, total, currency),
            debit(chart.DISCOUNTS, discount, currency),
            credit(chart.SUBSCRIPTION_REVENUE, subscription, currency),
            credit(chart.USAGE_REVENUE, usage, currency),
            credit(chart.ONE_OFF_REVENUE, one_off, currency),
            credit(chart.TAX_PAYABLE, tax, currency),
        ],
    )


def payment_captured(
    *,
    scope: Scope,
    payment_id: str,
    gateway: str,
    amount: int,
    currency: str,
    invoice_id: str = "",
    date: Date | None = None,
    memo: str = "",
) -> JournalEntry:
    """A gateway captured a customer's payment: the money waits in its clearing account."""
    return _two_lines(
        scope, SourceType.PAYMENT, payment_id, EntryKind.PAYMENT_CAPTURED,
        debit_code=_clearing(gateway), credit_code=chart.RECEIVABLE, amount=amount,
        currency=currency, invoice_id=invoice_id, date=date,
        memo=memo or f"Payment {payment_id} captured by {gateway}",
    )


def refund_issued(
    *,
    scope: Scope,
    refund_id: str,
    gateway: str,
    amount: int,
    currency: str,
    invoice_id: str = "",
    date: Date | None = None,
    memo: str = "",
    tax: int = 0,
) -> JournalEntry:
    """Money went back to a customer through a gateway (a contra-revenue, not a revenue debit).
    `amount` is the money refunded; `tax`, the part of it that was tax, is given back from
    2300 (DR 2300) and the rest is the refund's contra-revenue (DR 4910)."""
    return _with_tax(
        scope, SourceType.REFUND, refund_id, EntryKind.REFUND,
        debit_code=chart.REFUNDS, credit_code=_clearing(gateway), amount=amount, tax=tax,
        currency=currency, invoice_id=invoice_id, date=date,
        memo=memo or f"Refund {refund_id} through {gateway}",
    )


def payment_unapplied(
    *,
    scope: Scope,
    payment_id: str,
    gateway: str,
    amount: int,
    currency: str,
    date: Date | None = None,
    memo: str = "",
) -> JournalEntry:
    """A gateway took a payment for nothing we still sell (what it paid for was replaced or
    canceled meanwhile): the money is the customer's until it goes back."""
    return _two_lines(
        scope, SourceType.PAYMENT, payment_id, EntryKind.PAYMENT_CAPTURED,
        debit_code=_clearing(gateway), credit_code=chart.CUSTOMER_CREDIT, amount=amount,
        currency=currency, invoice_id="", date=date,
        memo=memo or f"Unapplied payment {payment_id} captured by {gateway}",
    )


def unapplied_payment_refunded(
    *,
    scope: Scope,
    refund_id: str,
    gateway: str,
    amount: int,
    currency: str,
    date: Date | None = None,
    memo: str = "",
) -> JournalEntry:
    """An unapplied payment went back to the customer through its gateway."""
    return _two_lines(
        scope, SourceType.REFUND, refund_id, EntryKind.REFUND,
        debit_code=chart.CUSTOMER_CREDIT, credit_code=_clearing(gateway), amount=amount,
        currency=currency, invoice_id="", date=date,
        memo=memo or f"Unapplied payment refunded through {gateway} ({refund_id})",
    )


def upgrade_credit_granted(
    *,
    scope: Scope,
    change_id: str,
    amount: int,
    currency: str,
    date: Date | None = None,
    memo: str = "",
    tax: int = 0,
) -> JournalEntry:
    """An upgrade credited the unused part of the old plan: revenue given back (`amount`, net
    of tax) and its `tax` given back from 2300, owed as credit (CR 2100 amount + tax)."""
    minor_units("amount", amount, positive=True)
    minor_units("tax", tax)
    return post_entry(
        scope=scope, source_type=SourceType.SUBSCRIPTION_CHANGE, source_id=change_id,
        kind=EntryKind.UPGRADE_CREDIT, invoice_id="", date=_date(scope, date),
        memo=memo or f"Credit for subscription change {change_id}",
        lines=[debit(chart.SUBSCRIPTION_REVENUE, amount, currency),
               debit(chart.TAX_PAYABLE, tax, currency),
               credit(chart.CUSTOMER_CREDIT, amount + tax, currency)],
    )


def customer_credit_applied(
    *,
    scope: Scope,
    invoice_id: str,
    amount: int,
    currency: str,
    date: Date | None = None,
    memo: str = "",
    application_id: str = "",
) -> JournalEntry:
    """A customer's credit paid (part of) an invoice. Credit used when the invoice is issued
    is posted once per invoice (its source is the invoice); credit used later on an invoice
    still open — possibly several times — names each use with its own `application_id` (the
    record of that use), or the second use would be taken for a repeat of the first and
    never posted."""
    return _two_lines(
        scope, SourceType.INVOICE, application_id or invoice_id, EntryKind.CREDIT_APPLIED,
        debit_code=chart.CUSTOMER_CREDIT, credit_code=chart.RECEIVABLE, amount=amount,
        currency=currency, invoice_id=invoice_id, date=date,
        memo=memo or f"Customer credit applied to invoice {invoice_id}",
    )


def invoice_written_off(
    *,
    scope: Scope,
    invoice_id: str,
    amount: int,
    currency: str,
    date: Date | None = None,
    memo: str = "",
    tax: int = 0,
) -> JournalEntry:
    """What is left unpaid of an invoice will not be collected: `amount` off receivable, its
    `tax` part given back from 2300 (never owed to the tax office) and the rest bad debt."""
    return _with_tax(
        scope, SourceType.INVOICE, invoice_id, EntryKind.WRITE_OFF,
        debit_code=chart.BAD_DEBT, credit_code=chart.RECEIVABLE, amount=amount, tax=tax,
        currency=currency, invoice_id=invoice_id, date=date,
        memo=memo or f"Invoice {invoice_id} written off",
    )


def gateway_fee_charged(
    *,
    scope: Scope,
    payment_id: str,
    gateway: str,
    amount: int,
    currency: str,
    invoice_id: str = "",
    date: Date | None = None,
    memo: str = "",
) -> JournalEntry:
    """A gateway kept a fee out of a payment it holds for the merchant."""
    return _two_lines(
        scope, SourceType.PAYMENT, payment_id, EntryKind.GATEWAY_FEE,
        debit_code=chart.GATEWAY_FEES, credit_code=_clearing(gateway), amount=amount,
        currency=currency, invoice_id=invoice_id, date=date,
        memo=memo or f"{gateway} fee on payment {payment_id}",
    )


def entry_reversed(
    *, scope: Scope, entry_id: str, date: Date | None = None, memo: str = ""
) -> JournalEntry:
    """Correct a posted entry by posting its mirror image (an entry is reversed at most once)."""
    original = JournalEntry.objects.for_scope(scope).filter(pk=entry_id).first()
    if original is None:
        raise PostingError(f"no journal entry {entry_id} in this merchant environment")
    return post_entry(
        scope=scope,
        source_type=SourceType.JOURNAL_ENTRY,
        source_id=original.pk,
        kind=EntryKind.REVERSAL,
        invoice_id=original.invoice_id,
        reversal_of=original,
        date=_date(scope, date),
        memo=memo or f"Reversal of {original.pk} ({original.memo})",
        lines=[
            Line(line.account.code, line.currency, debit=line.credit, credit=line.debit)
            for line in original.lines.select_related("account")
        ],
    )


def _two_lines(
    scope: Scope, source_type: str, source_id: str, kind: str, *, debit_code: str,
    credit_code: str, amount: int, currency: str, invoice_id: str, date: Date | None, memo: str,
) -> JournalEntry:
    minor_units("amount", amount, positive=True)
    return post_entry(
        scope=scope,
        source_type=source_type,
        source_id=source_id,
        kind=kind,
        invoice_id=invoice_id,
        date=_date(scope, date),
        memo=memo,
        lines=[debit(debit_code, amount, currency), credit(credit_code, amount, currency)],
    )


def _with_tax(
    scope: Scope, source_type: str, source_id: str, kind: str, *, debit_code: str,
    credit_code: str, amount: int, tax: int, currency: str, invoice_id: str,
    date: Date | None, memo: str,
) -> JournalEntry:
    """`amount` out of `credit_code`, of which `tax` is debited to 2300 and the rest to
    `debit_code`: one entry of up to three lines."""
    minor_units("amount", amount, positive=True)
    minor_units("tax", tax)
    if tax > amount:
        raise PostingError("the tax given back cannot exceed the amount")
    return post_entry(
        scope=scope, source_type=source_type, source_id=source_id, kind=kind,
        invoice_id=invoice_id, date=_date(scope, date), memo=memo,
        lines=[debit(debit_code, amount - tax, currency), debit(chart.TAX_PAYABLE, tax, currency),
               credit(credit_code, amount, currency)],
    )


def _clearing(gateway: str) -> str:
    if not isinstance(gateway, str) or not GATEWAY_NAME.match(gateway):
        raise PostingError(f"gateway must be a short lower-case name, got {gateway!r}")
    return chart.clearing_code(gateway)


def _date(scope: Scope, date: Date | None) -> Date:
    return date if date is not None else clock.now(scope).date()

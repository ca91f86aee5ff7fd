"""Writing invoices: numbering, totals, tax, and marking them paid, void or uncollectible.

Every function runs inside its caller's transaction (a subscribe, a renewal, a checkout
completion), which holds lock_customer(customer.id) already; none takes a lock of its own except
the invoice counter's row lock, held until that transaction commits (it is what makes numbers
gapless). Each posts its ledger entry (ledger.rules) in that same transaction: an invoice is
never without its entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import F, Q
from simple_history.utils import bulk_create_with_history

from billing.models import Invoice, InvoiceLine, InvoiceNumberCounter
from billing.services.credit_notes import credit_kept_note, write_off_note
from billing.services.webhooks import emit_event, emit_events
from billing.tax import tax_at_rate
from cynco.bulk import update_rows_with_history
from cynco.crash_points import crash_point
from cynco.tenancy import Scope
from ledger import rules as ledger
from ledger.models import EntryKind, JournalEntry, SourceType
from ledger.services.posting import posting_in_bulk

LineType = InvoiceLine.Type


@dataclass(frozen=True)
class LineDraft:
    """One line to put on an invoice; `amount` is negative for credits and discounts."""

    type: str
    description: str
    amount: int
    quantity: Decimal | int = 1
    unit_amount: int | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    subscription_id: str | None = None  # only when the invoice bills several subscriptions


@dataclass(frozen=True)
class Totals:
    subtotal: int
    discount_amount: int
    tax_amount: int
    total: int
    amount_due: int


def invoice_totals(lines: list[LineDraft], tax_rate_percent: Decimal) -> Totals:
    """Subtotal (every line but discounts), discount, tax on what is left (half-up, once;
    negative when credits exceed charges), total, and the amount due now (never below zero:
    a larger credit is not paid out but kept as customer credit, tax included)."""
    subtotal = sum(line.amount for line in lines if line.type != LineType.DISCOUNT)
    discount = -sum(line.amount for line in lines if line.type == LineType.DISCOUNT)
    # A credit larger than the charges (a quantity decrease, a larger upgrade credit) gives
    # its tax back: negative tax, at the rate the charges it undoes paid (billing.tax).
    tax = tax_at_rate(subtotal - discount, tax_rate_percent)
    total = subtotal - discount + tax
    return Totals(subtotal, discount, tax, total, max(total, 0))


def next_invoice_number(scope: Scope) -> str:
    """The next number of `scope`'s invoices: `INV-000001` in live, `INV-TEST-000001` in test.

    The counter row stays locked until the caller's transaction ends, so a rolled-back invoice
    gives its number back and numbers never skip.
    """
    return next_invoice_numbers(scope, 1)[0]


def next_invoice_numbers(scope: Scope, count: int) -> list[str]:
    """The next `count` numbers of `scope`'s invoices, in order, from one counter UPDATE whose
    row lock is held until the caller's transaction ends (see next_invoice_number): batch jobs
    call it as late as they can, so the counter is held for the last statements only."""
    table = InvoiceNumberCounter._meta.db_table
    sql = (f"UPDATE {table} SET last_number = last_number + %s "
           "WHERE merchant_id = %s AND environment = %s RETURNING last_number")
    with connection.cursor() as cursor:
        cursor.execute(sql, [count, scope.merchant_id, scope.environment])
        row = cursor.fetchone()
        if row is None:
            InvoiceNumberCounter.objects.get_or_create(
                merchant_id=scope.merchant_id, environment=scope.environment
            )
            cursor.execute(sql, [count, scope.merchant_id, scope.environment])
            row = cursor.fetchone()
    prefix = "INV-TEST" if scope.is_test else "INV"
    return [f"{prefix}-{number:06d}" for number in range(row[0] - count + 1, row[0] + 1)]


def invoice_issue(
    *,
    scope: Scope,
    customer,
    subscription,
    reason: str,
    currency: str,
    lines: list[LineDraft],
    at: datetime,
    period_start: datetime | None = None,
    period_end: datetime | None = None,
    apply_credit: bool = True,
) -> Invoice:
    """Write a finalized invoice (status open, numbered) with its lines and a tax line.

    Nothing due (a credit covers it all): it is paid at once. Emits `invoice.created` (and
    `invoice.paid` when paid at once). A second period invoice of one (subscription,
    period_start) raises IntegrityError: callers treat that as "already invoiced".
    Caller's transaction, caller's customer lock.

    Adjustments (billing.services.invoice_adjustments): a renewal gets its coupon's discount
    line; with `apply_credit` (off for a checkout's invoice, whose amount was paid already)
    referral credit becomes a discount line and upgrade credit lowers `amountDue`. A credit
    line larger than what the invoice owes leaves the rest as customer credit.
    """
    from billing.services import invoice_adjustments as adjust

    lines = [*lines, *adjust.renewal_discount_lines(
        scope=scope, subscription=subscription, reason=reason, lines=lines)]
    if apply_credit:
        lines = [*lines, *adjust.referral_credit_lines(
            scope=scope, customer=customer, currency=currency, lines=lines)]
    rate = Decimal(str(settings.INVOICE_TAX_RATE_PERCENT))
    totals = invoice_totals(lines, rate)
    stored_credit = adjust.upgrade_credit_take(
        scope=scope, customer=customer, currency=currency, amount_due=totals.amount_due,
    ) if apply_credit else 0
    if totals.tax_amount:
        lines = [*lines, LineDraft(LineType.TAX, f"Tax ({rate.normalize()}%)", totals.tax_amount)]
    invoice = Invoice.objects.create(
        merchant_id=scope.merchant_id, environment=scope.environment, customer=customer,
        subscription=subscription, reason=reason, currency=currency, status=Invoice.Status.OPEN,
        number=next_invoice_number(scope), subtotal=totals.subtotal,
        discount_amount=totals.discount_amount, tax_amount=totals.tax_amount,
        total=totals.total, amount_due=totals.amount_due - stored_credit,
        period_start=period_start,
        period_end=period_end, created_at=at, due_at=at,
    )
    InvoiceLine.objects.bulk_create(_line_rows(invoice, lines))
    left_over = _post_finalized(scope, invoice, lines, totals, at, stored_credit)
    if left_over:
        adjust.upgrade_credit_keep(scope=scope, customer=customer, currency=currency,
                                   amount=left_over, invoice=invoice, at=at)
    emit_event(scope=scope, type="invoice.created", data=invoice_event_data(invoice))
    if invoice.amount_due == 0:
        invoice_mark_paid(scope=scope, invoice=invoice, at=at)
    return invoice


def _line_rows(invoice: Invoice, lines: list[LineDraft]) -> list[InvoiceLine]:
    return [
        InvoiceLine(
            invoice=invoice, position=index, type=line.type, description=line.description[:500],
            quantity=Decimal(line.quantity),
            unit_amount=line.amount if line.unit_amount is None else line.unit_amount,
            amount=line.amount, period_start=line.period_start, period_end=line.period_end,
            subscription_id=line.subscription_id,
        )
        for index, line in enumerate(lines)
    ]


@dataclass(frozen=True)
class InvoiceDraft:
    """One period invoice of a batch (`invoices_issue_many`), as `invoice_issue` takes it."""

    customer_id: str
    subscription_id: str
    reason: str
    currency: str
    lines: list[LineDraft]
    at: datetime
    period_start: datetime | None = None
    period_end: datetime | None = None


def invoices_issue_many(*, scope: Scope, drafts: list[InvoiceDraft]) -> list[Invoice]:
    """`invoice_issue` for a batch of period invoices of `scope` (the renewal job): the same
    rows, events and ledger entries, written with a few statements for the whole batch.

    Numbers are taken by one counter UPDATE just before the inserts that need them, so the
    counter's row lock is held for the batch's last statements only; they commit or roll back
    with their invoices (no gap). A second invoice of a (subscription, period start) raises
    IntegrityError for the batch: callers roll it back and go one by one.
    Caller's transaction, caller's customer locks.
    """
    from billing.services import invoice_adjustments as adjust

    rate = Decimal(str(settings.INVOICE_TAX_RATE_PERCENT))
    invoices, issued, stored = [], [], {}
    adjusted = adjust.adjusted_among(scope=scope, drafts=drafts)
    for draft in drafts:
        lines = draft.lines
        if draft.subscription_id in adjusted:
            lines, stored[draft.subscription_id] = adjust.draft_adjust(scope=scope, draft=draft)
        totals = invoice_totals(lines, rate)
        if totals.tax_amount:
            lines = [*lines, LineDraft(LineType.TAX, f"Tax ({rate.normalize()}%)",
                                       totals.tax_amount)]
        invoice = Invoice(
            merchant_id=scope.merchant_id, environment=scope.environment,
            customer_id=draft.customer_id, subscription_id=draft.subscription_id,
            reason=draft.reason, currency=draft.currency, status=Invoice.Status.OPEN,
            subtotal=totals.subtotal, discount_amount=totals.discount_amount,
            tax_amount=totals.tax_amount, total=totals.total,
            amount_due=totals.amount_due - stored.get(draft.subscription_id, 0),
            period_start=draft.period_start, period_end=draft.period_end,
            created_at=draft.at, due_at=draft.at,
        )
        invoices.append(invoice)
        issued.append((invoice, lines, totals, draft.at))
    for invoice, number in zip(invoices, next_invoice_numbers(scope, len(invoices))):
        invoice.number = number
    bulk_create_with_history(invoices, Invoice)
    InvoiceLine.objects.bulk_create(
        [row for invoice, lines, _, _ in issued for row in _line_rows(invoice, lines)])
    with posting_in_bulk(scope):
        for invoice, lines, totals, at in issued:
            _post_finalized(scope, invoice, lines, totals, at,
                            stored.get(invoice.subscription_id, 0))
    emit_events(scope=scope, events=[("invoice.created", invoice_event_data(invoice))
                                     for invoice in invoices])
    for invoice, _, totals, at in issued:
        if invoice.amount_due == 0:
            invoice_mark_paid(scope=scope, invoice=invoice, at=at)
    return invoices


_REVENUE = {
    LineType.SUBSCRIPTION: "subscription", LineType.PRORATION: "subscription",
    LineType.OVERAGE: "usage", LineType.ONE_OFF: "one_off", LineType.SETUP_FEE: "one_off",
}


def _post_finalized(scope, invoice, lines, totals, at, stored_credit=0) -> int:
    """Ledger: DR 1200 / CR revenue by kind (and tax); a proration credit is revenue given back
    as customer credit (DR 4001 / CR 2100) and used on this invoice (DR 2100 / CR 1200), with
    `stored_credit` (earlier upgrade credit) in the same credit-applied entry. Returns the part
    of the proration credit the invoice could not use (it stays in 2100)."""
    revenue = {"subscription": 0, "usage": 0, "one_off": 0}
    credit = 0
    for line in lines:
        if line.type in _REVENUE and line.amount > 0:
            revenue[_REVENUE[line.type]] += line.amount
        elif line.type in _REVENUE and line.amount < 0:
            credit -= line.amount
    # Negative tax: the credit exceeds the charges and gives that much tax back with it.
    charged_tax, credit_tax = max(totals.tax_amount, 0), max(-totals.tax_amount, 0)
    ledger.invoice_finalized(
        scope=scope, invoice_id=invoice.id, currency=invoice.currency, **revenue,
        discount=totals.discount_amount, tax=charged_tax, date=at.date(),
        memo=f"Invoice {invoice.number}",
    )
    used = 0
    if credit:
        entry = ledger.upgrade_credit_granted(
            scope=scope, change_id=invoice.id, amount=credit, tax=credit_tax,
            currency=invoice.currency, date=at.date())
        owed = sum(revenue.values()) - totals.discount_amount + charged_tax
        used = max(min(credit + credit_tax, owed), 0)
        if credit + credit_tax > used:
            credit_kept_note(scope=scope, invoice=invoice, used=used, tax=credit_tax,
                             entry=entry, at=at, credits=[
                                 (line.description, -line.amount) for line in lines
                                 if line.type in _REVENUE and line.amount < 0])
    if used + stored_credit:
        ledger.customer_credit_applied(scope=scope, invoice_id=invoice.id,
                                       amount=used + stored_credit, currency=invoice.currency,
                                       date=at.date())
    return credit + credit_tax - used


def invoice_mark_paid(
    *, scope: Scope, invoice: Invoice, at: datetime, payment_attempt_id: str = "",
    payment_id: str = "", gateway: str = "",
) -> Invoice:
    """Record that `invoice` was paid in full at `at` (idempotent). Emits `invoice.paid`; with a
    payment (`payment_id` at `gateway`) posts it (DR 1100-<gateway> / CR 1200) and emits
    `payment.succeeded`."""
    if invoice.status == Invoice.Status.PAID:
        return invoice
    if payment_id and invoice.amount_due:
        crash_point("charge.before_entry")
        ledger.payment_captured(scope=scope, payment_id=payment_id, gateway=gateway,
                                amount=invoice.amount_due, currency=invoice.currency,
                                invoice_id=invoice.id, date=at.date())
        emit_event(scope=scope, type="payment.succeeded", data={
            "invoiceId": invoice.id, "customerId": invoice.customer_id,
            "subscriptionId": invoice.subscription_id, "amount": invoice.amount_due,
            "currency": invoice.currency, "gateway": gateway,
            "paymentAttemptId": payment_attempt_id, "paymentId": payment_id,
        })
    Invoice.objects.filter(pk=invoice.pk).update(
        status=Invoice.Status.PAID, paid_at=at, amount_paid=F("amount_paid") + F("amount_due"),
        amount_due=0, payment_attempt_id=payment_attempt_id or invoice.payment_attempt_id,
        payment_gateway=gateway if payment_id and invoice.amount_due else invoice.payment_gateway,
    )
    invoice.refresh_from_db()
    crash_point("charge.invoice_paid")
    emit_event(scope=scope, type="invoice.paid", data=invoice_event_data(invoice))
    return invoice


@dataclass(frozen=True)
class InvoicePayment:
    """A payment that paid an open invoice in full (`invoices_mark_paid_many`)."""

    invoice: Invoice
    at: datetime
    payment_attempt_id: str
    payment_id: str
    gateway: str


def invoices_mark_paid_many(*, scope: Scope, payments: list[InvoicePayment]) -> None:
    """`invoice_mark_paid` for a batch of open invoices the caller holds row locks on (and
    their customers' locks): the same ledger entries (payment captured), rows, history,
    `payment.succeeded` and `invoice.paid` events, written with a few statements."""
    paid, events = [], []
    with posting_in_bulk(scope):
        for payment in payments:
            invoice = payment.invoice
            if invoice.status == Invoice.Status.PAID:
                continue
            if payment.payment_id and invoice.amount_due:
                ledger.payment_captured(
                    scope=scope, payment_id=payment.payment_id, gateway=payment.gateway,
                    amount=invoice.amount_due, currency=invoice.currency,
                    invoice_id=invoice.id, date=payment.at.date())
                events.append(("payment.succeeded", _payment_event_data(invoice, payment)))
                invoice.payment_gateway = payment.gateway
            invoice.status, invoice.paid_at = Invoice.Status.PAID, payment.at
            invoice.amount_paid, invoice.amount_due = invoice.amount_paid + invoice.amount_due, 0
            invoice.payment_attempt_id = payment.payment_attempt_id or invoice.payment_attempt_id
            paid.append(invoice)
            events.append(("invoice.paid", invoice_event_data(invoice)))
    update_rows_with_history(paid, ["status", "paid_at", "amount_paid", "amount_due",
                                    "payment_attempt_id", "payment_gateway"])
    emit_events(scope=scope, events=events)


def _payment_event_data(invoice: Invoice, payment: InvoicePayment) -> dict:
    """`payment.succeeded`'s data, as invoice_mark_paid sends it (before the invoice is
    marked paid: `amount` is what was due)."""
    return {
        "invoiceId": invoice.id, "customerId": invoice.customer_id,
        "subscriptionId": invoice.subscription_id, "amount": invoice.amount_due,
        "currency": invoice.currency, "gateway": payment.gateway,
        "paymentAttemptId": payment.payment_attempt_id, "paymentId": payment.payment_id,
    }


def invoice_mark_uncollectible(*, scope: Scope, invoice: Invoice, at: datetime) -> Invoice:
    """Give up collecting `invoice` (the end of dunning): what is due is written off on a
    credit note, its share of the invoice's tax given back (DR 6200 and DR 2300 / CR 1200).
    It keeps its number and lines."""
    if invoice.amount_due:
        write_off_note(scope=scope, invoice=invoice, at=at)
    invoice.status = Invoice.Status.UNCOLLECTIBLE
    invoice.save(update_fields=["status"])
    return invoice


def invoice_void(*, scope: Scope, invoice: Invoice, at: datetime) -> Invoice:
    """Cancel an unpaid invoice as if it had never been issued: every entry its finalizing
    posted (invoice finalized, and a proration credit granted and used on it) is reversed
    with `entry_reversed`, so nothing is owed on it and no revenue is left from it."""
    posted = JournalEntry.objects.for_scope(scope).filter(
        Q(invoice_id=invoice.id, kind__in=[EntryKind.INVOICE_FINALIZED, EntryKind.CREDIT_APPLIED])
        | Q(source_type=SourceType.SUBSCRIPTION_CHANGE, source_id=invoice.id,
            kind=EntryKind.UPGRADE_CREDIT)
    ).order_by("posted_at", "id")
    for entry in posted:
        ledger.entry_reversed(scope=scope, entry_id=entry.pk, date=at.date(),
                              memo=f"Invoice {invoice.number} voided")
    invoice.status = Invoice.Status.VOID
    invoice.voided_at = at
    invoice.amount_due = 0
    invoice.save(update_fields=["status", "voided_at", "amount_due"])
    return invoice


def invoice_event_data(invoice: Invoice) -> dict:
    return {
        "id": invoice.id, "number": invoice.number, "status": invoice.status,
        "customerId": invoice.customer_id, "subscriptionId": invoice.subscription_id,
        "currency": invoice.currency, "total": invoice.total, "amountDue": invoice.amount_due,
        "amountPaid": invoice.amount_paid,
    }

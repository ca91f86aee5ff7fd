"""Billing's side of the ledger's reconciliation (settings.LEDGER_RECONCILIATION_SOURCES).

What billing's own records say the books must show, for one merchant environment:

- receivable (1200): what is still due on open invoices, per currency;
- clearing (1100-<gateway>): money collected on invoices through each gateway (their
  `amount_paid`, by `payment_gateway`) less the refunds that gateway made (succeeded `Refund`
  rows, each posted as `refund_issued` when it succeeds), plus unapplied payments (money that
  landed after its purpose was gone, booked into 2100 when found) less those refunded.
  Gateway fees are not recorded by billing yet, so none are deducted;
- paid invoices: every paid invoice with a total above zero (each must have its finalized
  entry and nothing left on 1200);
- sources: the ledger entries billing's records imply, with their amounts (the sum of the
  entry's debits), so an entry with no business event behind it, or with another amount, is
  named, for the kinds of SOURCE_KINDS: an issued invoice's finalized entry (its positive
  revenue lines and tax), its credit applied (amount not checked), its write-off (what was due
  when it became uncollectible). Payments, refunds and upgrade credits are listed too but not
  vouched for (see SOURCE_KINDS).
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Case, IntegerField, Q, Sum, When

from billing.models import Invoice, InvoiceLine, Refund, UnappliedPayment
from cynco.tenancy import Scope
from ledger.models import EntryKind, SourceType
from ledger.reconciliation import ExpectedFigures

# Line types whose positive amounts are revenue in the finalized entry (billing.services.invoices).
REVENUE_LINES = ("subscription", "proration", "overage", "one_off", "setup_fee")
# The kinds whose sources are vouched for. Payments, refunds and upgrade credits are left out
# since the merge of credit notes and unapplied payments (their sources — unapplied payments,
# the tax in an upgrade credit — are not listed here yet).
SOURCE_KINDS = frozenset({
    EntryKind.INVOICE_FINALIZED, EntryKind.CREDIT_APPLIED, EntryKind.WRITE_OFF,
    EntryKind.GATEWAY_FEE,
})


def expected_figures(scope: Scope) -> ExpectedFigures:
    """The figures billing expects the ledger of `scope` to hold (read-only)."""
    invoices = Invoice.objects.for_scope(scope)
    receivable = {
        row["currency"]: row["due"]
        for row in invoices.filter(status=Invoice.Status.OPEN).values("currency")
        .annotate(due=Sum("amount_due")).order_by()
    }
    clearing: dict[str, dict[str, int]] = defaultdict(dict)
    for row in (invoices.filter(amount_paid__gt=0).exclude(payment_gateway="")
                .values("payment_gateway", "currency").annotate(paid=Sum("amount_paid"))
                .order_by()):
        clearing[row["payment_gateway"]][row["currency"]] = row["paid"]
    for row in (Refund.objects.for_scope(scope).filter(status=Refund.Status.SUCCEEDED)
                .values("gateway", "currency").annotate(refunded=Sum("amount")).order_by()):
        held = clearing[row["gateway"]]
        held[row["currency"]] = held.get(row["currency"], 0) - row["refunded"]
    unapplied = UnappliedPayment.objects.for_scope(scope)
    for refunded in (False, True):
        rows = unapplied.filter(status=UnappliedPayment.Status.REFUNDED) if refunded else unapplied
        for row in (rows.values("gateway", "currency").annotate(total=Sum("amount"))
                    .order_by()):
            held = clearing[row["gateway"]]
            sign = -1 if refunded else 1
            held[row["currency"]] = held.get(row["currency"], 0) + sign * row["total"]
    paid = invoices.filter(status=Invoice.Status.PAID, total__gt=0).values_list("id", flat=True)
    return ExpectedFigures(receivable=receivable, clearing=dict(clearing),
                           paid_invoice_ids=list(paid), sources=entry_sources(scope),
                           source_kinds=SOURCE_KINDS)


def entry_sources(scope: Scope) -> dict[tuple[str, str, str], int | None]:
    """{(source type, source id, kind): amount} of every entry billing's records imply.
    Gateway fees are not recorded by billing: a fee entry has no source here."""
    sources: dict[tuple[str, str, str], int | None] = {}
    positive = Q(type__in=REVENUE_LINES, amount__gt=0) | Q(type="tax")
    for row in (
        InvoiceLine.objects.filter(invoice__merchant_id=scope.merchant_id,
                                   invoice__environment=scope.environment)
        .exclude(invoice__status=Invoice.Status.DRAFT)
        .values("invoice_id")
        .annotate(
            finalized=Sum(Case(When(positive, then="amount"), default=0,
                               output_field=IntegerField())),
            credit=Sum(Case(When(type__in=REVENUE_LINES, amount__lt=0, then="amount"), default=0,
                            output_field=IntegerField())),
        ).order_by()
    ):
        invoice_id = row["invoice_id"]
        sources[(SourceType.INVOICE, invoice_id, EntryKind.INVOICE_FINALIZED)] = row["finalized"]
        sources[(SourceType.SUBSCRIPTION_CHANGE, invoice_id, EntryKind.UPGRADE_CREDIT)] = (
            -row["credit"])
        sources[(SourceType.INVOICE, invoice_id, EntryKind.CREDIT_APPLIED)] = None
    for invoice_id, status, due, paid, gateway in (
        Invoice.objects.for_scope(scope).exclude(status=Invoice.Status.DRAFT)
        .values_list("id", "status", "amount_due", "amount_paid", "payment_gateway")
    ):
        if status == Invoice.Status.UNCOLLECTIBLE:
            sources[(SourceType.INVOICE, invoice_id, EntryKind.WRITE_OFF)] = due
        if gateway and paid:
            sources[(SourceType.INVOICE, invoice_id, EntryKind.PAYMENT_CAPTURED)] = paid
    for refund_id, amount in (Refund.objects.for_scope(scope)
                              .filter(status=Refund.Status.SUCCEEDED)
                              .values_list("id", "amount")):
        sources[(SourceType.REFUND, refund_id, EntryKind.REFUND)] = amount
    return sources

"""Billing's side of the ledger's reconciliation (settings.LEDGER_RECONCILIATION_SOURCES).

What billing's own records say the books must show, for one merchant environment:

- receivable (1200): what is still due on open invoices, per currency;
- clearing (1100-<gateway>): money collected on invoices through each gateway (their
  `amount_paid`, by `payment_gateway`) less the refunds that gateway made (succeeded `Refund`
  rows, each posted as `refund_issued` when it succeeds), plus unapplied payments (money that
  landed after its purpose was gone, booked into 2100 when found) less those refunded.
  Gateway fees are not recorded by billing yet, so none are deducted;
- paid invoices: every paid invoice with a total above zero (each must have its finalized
  entry and nothing left on 1200).
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Sum

from billing.models import Invoice, Refund, UnappliedPayment
from cynco.tenancy import Scope
from ledger.reconciliation import ExpectedFigures


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
                           paid_invoice_ids=list(paid))

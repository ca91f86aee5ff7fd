"""An operator's changes to an open invoice: void it, or write it off as uncollectible.

Money on an invoice is never edited by hand: these services are what the console's actions
call. Both take lock_customer(invoice.customer_id) first and run in one transaction, with the
ledger posting and an audit row in it.
"""

from __future__ import annotations

from django.db import transaction

from billing.models import Invoice
from billing.services.audit import Actor, audit_record
from billing.services.invoices import invoice_mark_uncollectible, invoice_void
from cynco import clock
from cynco.errors import Conflict, NotFound
from cynco.locks import lock_customer
from cynco.tenancy import Scope


def open_invoice_void(*, scope: Scope, invoice_id: str, actor: Actor) -> Invoice:
    """Void an open invoice (issued by mistake, or forgiven): nothing is owed on it any more.

    Ledger: every entry its finalizing posted is reversed (`entry_reversed`). A past-due
    subscription waiting on it stops being dunned and recovers at its next retry (the job finds
    nothing open). Conflict unless the invoice is open.
    """
    return _change(scope, invoice_id, actor, "invoice.voided", invoice_void)


def open_invoice_write_off(*, scope: Scope, invoice_id: str, actor: Actor) -> Invoice:
    """Mark an open invoice uncollectible: what is due is written off as bad debt.

    Ledger: DR 6200 / CR 1200 for the amount due (`invoice_written_off`). The invoice keeps
    its number, lines and amount due (what was not collected). Conflict unless it is open.
    """
    return _change(scope, invoice_id, actor, "invoice.marked_uncollectible",
                   invoice_mark_uncollectible)


def _change(scope, invoice_id, actor, event, apply) -> Invoice:
    found = Invoice.objects.for_scope(scope).filter(pk=invoice_id).values_list(
        "customer_id", flat=True).first()
    if found is None:
        raise NotFound(f"No invoice '{invoice_id}'")
    with transaction.atomic():
        lock_customer(found)
        invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
        if invoice.status != Invoice.Status.OPEN:
            raise Conflict(f"Invoice {invoice.number} is {invoice.status}, not open")
        due = invoice.amount_due
        invoice = apply(scope=scope, invoice=invoice, at=clock.now(scope))
        audit_record(scope=scope, event=event, actor=actor, customer_id=invoice.customer_id,
                     subscription_id=invoice.subscription_id, resource_type="invoice",
                     resource_id=invoice.id, details={"number": invoice.number,
                                                      "amountDue": due,
                                                      "currency": invoice.currency})
        return invoice

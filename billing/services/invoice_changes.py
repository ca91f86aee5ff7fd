"""An operator's changes to an open invoice: void it, or write it off as uncollectible.

Money on an invoice is never edited by hand: these services are what the console's actions
call. Both take lock_customer(invoice.customer_id) first and run in one transaction, with the
ledger posting and an audit row in it.
"""

from __future__ import annotations

from django.db import transaction

from billing.models import Invoice, Subscription
from billing.services.audit import Actor, audit_record
from billing.services.invoices import invoice_mark_uncollectible, invoice_void
from billing.services.subscriptions import announce, subscription_end
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
    return _change(scope, invoice_id, actor, "invoice.voided", _void)


def open_invoice_write_off(*, scope: Scope, invoice_id: str, actor: Actor) -> Invoice:
    """Mark an open invoice uncollectible: what is due is written off as bad debt.

    Ledger: DR 6200 / CR 1200 for the amount due (`invoice_written_off`). The invoice keeps
    its number, lines and amount due (what was not collected). A past-due subscription that
    was waiting on it is canceled now, as at the end of dunning. Conflict unless it is open.
    """
    return _change(scope, invoice_id, actor, "invoice.marked_uncollectible", _write_off)


def _write_off(*, scope: Scope, invoice: Invoice, at, actor: Actor) -> Invoice:
    invoice = invoice_mark_uncollectible(scope=scope, invoice=invoice, at=at)
    subscription = invoice.subscription
    if subscription is not None and subscription.status == Subscription.Status.PAST_DUE:
        subscription_end(subscription=subscription, status=Subscription.Status.CANCELED, at=at)
        announce(scope=scope, subscription=subscription, events=["subscription.canceled"],
                 actor=actor, details={"reason": "uncollectible", "invoiceId": invoice.id})
    return invoice


def _void(*, scope: Scope, invoice: Invoice, at, actor: Actor) -> Invoice:
    return invoice_void(scope=scope, invoice=invoice, at=at)


def _change(scope, invoice_id, actor, event, apply) -> Invoice:
    found = Invoice.objects.for_scope(scope).filter(pk=invoice_id).values_list(
        "customer_id", flat=True).first()
    if found is None:
        raise NotFound(f"No invoice '{invoice_id}'")
    with transaction.atomic():
        lock_customer(found)
        invoice = Invoice.objects.select_for_update(of=("self",)).select_related(
            "subscription").get(pk=invoice_id)
        if invoice.status != Invoice.Status.OPEN:
            raise Conflict(f"Invoice {invoice.number} is {invoice.status}, not open")
        due = invoice.amount_due
        invoice = apply(scope=scope, invoice=invoice, at=clock.now(scope), actor=actor)
        audit_record(scope=scope, event=event, actor=actor, customer_id=invoice.customer_id,
                     subscription_id=invoice.subscription_id, resource_type="invoice",
                     resource_id=invoice.id, details={"number": invoice.number,
                                                      "amountDue": due,
                                                      "currency": invoice.currency})
        return invoice

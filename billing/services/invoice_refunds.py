"""An operator gives money back on a paid invoice, in full or in part (the console's "Refund an
invoice"): the same refund flow as a cancel-now (billing.services.refunds), so the refund goes
through the gateway that took the payment, gives back its share of the invoice's tax on a
credit note and posts DR 4910, DR 2300 / CR 1100-<gateway> once the gateway agrees."""

from __future__ import annotations

from django.db.models import Sum

from billing.models import Invoice, Refund
from billing.services.audit import Actor
from billing.services.refunds import refund_create
from cynco.errors import Conflict, ValidationFailed
from cynco.locks import lock_customer
from cynco.tenancy import Scope


def invoice_refundable(invoice: Invoice) -> int:
    """What is left to refund on `invoice`: what it was paid in money less every refund that
    is pending or went through (a failed refund gives nothing back)."""
    if invoice.status != Invoice.Status.PAID or not invoice.payment_attempt_id:
        return 0
    given = (invoice.refunds.exclude(status=Refund.Status.FAILED)
             .aggregate(total=Sum("amount"))["total"] or 0)
    return max(invoice.amount_paid - given, 0)


def invoice_refund(*, scope: Scope, invoice_id: str, amount: int | None, reason: str, at,
                   actor: Actor) -> Refund:
    """Refund `amount` (minor units; None: all that is left) of a paid invoice. Caller's
    transaction; takes the customer's lock, re-reads the invoice under it (so two operators
    cannot refund the same money twice), writes a pending `Refund` and sends it once the
    transaction commits. Posts nothing itself: the refund's settlement posts its entry."""
    invoice = Invoice.objects.for_scope(scope).get(pk=invoice_id)
    lock_customer(invoice.customer_id)
    invoice = Invoice.objects.for_scope(scope).get(pk=invoice_id)
    left = invoice_refundable(invoice)
    if left <= 0:
        raise Conflict(f"Invoice {invoice.number or invoice.pk} has nothing left to refund.")
    amount = left if amount is None else amount
    if amount <= 0 or amount > left:
        raise ValidationFailed.field(
            "amount", f"must be between 1 and {left} (what is left to refund), in minor units")
    return refund_create(scope=scope, invoice=invoice, subscription=invoice.subscription,
                         amount=amount, reason=reason or "Refund by the merchant", at=at,
                         actor=actor)

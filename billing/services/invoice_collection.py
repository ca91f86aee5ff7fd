"""Collecting an invoice the server issues outside the period-end job — a quantity increase
mid-period, the overage of a period cut short — with the customer's saved card.

The invoice is written in the business transaction (under the customer's lock); the charge is
made once that transaction commits, with no transaction open and no lock held (the pattern of
billing.services.payments), and its outcome is recorded by `renewals.renewal_settle`: paid →
the invoice is paid (ledger: payment captured); declined or no card → an active
subscription goes past_due and is dunned like a failed renewal, and an ended one leaves the
invoice open for the merchant to collect, void or write off. The attempt's key is derived
from the invoice id, so a second collection of one invoice charges nothing.
"""

from __future__ import annotations

import logging
from functools import partial

from django.db import transaction

from billing.models import Invoice
from billing.services.payments import Collection, charge_saved_card
from cynco.tenancy import Scope

logger = logging.getLogger(__name__)


def collect_after_commit(*, scope: Scope, invoice: Invoice | None) -> None:
    """Charge `invoice`'s amount due once the caller's transaction commits (nothing when it
    owes nothing). An error while collecting is logged and leaves the invoice open; it never
    turns the committed change into a failed answer."""
    if invoice is None or invoice.amount_due <= 0 or invoice.status != Invoice.Status.OPEN:
        return
    transaction.on_commit(partial(
        invoice_collect, scope=scope, invoice_id=invoice.id, customer_id=invoice.customer_id,
        amount=invoice.amount_due, currency=invoice.currency,
    ), robust=True)


def invoice_collect(*, scope: Scope, invoice_id: str, customer_id: str, amount: int,
                    currency: str, attempt_number: int = 1) -> Collection:
    """Charge the saved card for an open invoice and record the outcome (renewal_settle).
    No transaction may be open."""
    from billing.services.renewals import renewal_settle

    collection = charge_saved_card(
        scope=scope, customer_id=customer_id, amount=amount, currency=currency,
        source=invoice_id, key=f"{invoice_id}:charge:{attempt_number}",
    )
    renewal_settle(scope=scope, invoice_id=invoice_id, attempt=collection.attempt)
    return collection

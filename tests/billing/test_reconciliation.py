"""Billing's reconciliation provider: after months of business through the API the books agree
with the invoices and payments (`manage.py reconcile_ledger` exits 0), and an invoice marked
paid behind the ledger's back is named (exit 1)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from billing.models import Invoice, Refund
from billing.selectors.reconciliation import expected_figures
from billing.services.audit import SYSTEM
from billing.services.invoice_changes import open_invoice_void
from cynco.tenancy import Scope
from tests.billing.admin_console import declined_renewal
from tests.billing.subscribing import (
    CANCEL, DAY, LATER_DECLINED_CARD, advance, customer, invoices, main_catalog, subscribe, subscribe_paid,
)
from tests.factories import data_of

pytestmark = pytest.mark.django_db(transaction=True)


def reconcile(merchant_id: str) -> tuple[str, bool]:
    out = StringIO()
    try:
        call_command("reconcile_ledger", merchant=merchant_id, environment="test", stdout=out)
    except CommandError as failure:
        return out.getvalue() + str(failure), False
    return out.getvalue(), True


@pytest.fixture
def a_quarter_of_business(api, merchant):
    """Jane pays Pro by card, renews twice, upgrades to Enterprise with her saved card and
    cancels it now; Bob's card is declined at renewal, dunned and written off; Carol's renewal
    is declined and still open; Dan's is voided by an operator."""
    main_catalog(api)
    for name in ("jane", "bob"):
        customer(api, name)
    subscribe_paid(api, "pro", "jane")
    declined_renewal(api, "bob")
    advance(api, 40 * DAY)  # Jane's second renewal; Bob's dunning ends in a write-off
    assert subscribe(api, "enterprise", "jane")["action"] == "activated"
    data_of(api.post(CANCEL, {"customer": "jane", "product": "enterprise", "immediate": True}))
    customer(api, "carol")
    customer(api, "dan")
    subscribe_paid(api, "pro", "dan", card=LATER_DECLINED_CARD)
    declined_renewal(api, "carol")  # Dan's renewal is declined in the same run
    dans = Invoice.objects.get(customer__external_id="dan", status="open")
    open_invoice_void(scope=Scope(merchant.merchant.id, "test"), invoice_id=dans.pk, actor=SYSTEM)
    return Scope(merchant.merchant.id, "test")


def test_after_a_quarter_of_business_the_books_reconcile(api, a_quarter_of_business):
    scope = a_quarter_of_business
    statuses = sorted(i["status"] for name in ("jane", "bob", "carol", "dan")
                      for i in invoices(api, name))
    assert statuses.count("uncollectible") == 1 and statuses.count("void") == 1
    assert statuses.count("open") == 1 and statuses.count("paid") >= 7
    figures = expected_figures(scope)
    carol = Invoice.objects.get(customer__external_id="carol", status="open")
    assert figures.receivable == {"MYR": carol.amount_due}
    refund = Refund.objects.get(customer__external_id="jane")  # Enterprise canceled now
    assert refund.status == "succeeded" and refund.amount > 0
    collected = sum(Invoice.objects.filter(payment_gateway="sandbox").values_list(
        "amount_paid", flat=True))
    assert figures.clearing["sandbox"]["MYR"] == collected - refund.amount
    table, clean = reconcile(scope.merchant_id)
    assert clean, table
    assert "DIFFERS" not in table and "Ledger reconciles" in table
    for check in ("receivable", "clearing", "paid invoices settled", "trial balance"):
        assert check in table


def test_an_invoice_marked_paid_behind_the_ledgers_back_is_named(a_quarter_of_business):
    scope = a_quarter_of_business
    carol = Invoice.objects.get(customer__external_id="carol", status="open")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE billing_invoice SET status = 'paid', amount_paid = amount_due, "
                       "amount_due = 0, payment_gateway = 'sandbox' WHERE id = %s", [carol.pk])
    table, clean = reconcile(scope.merchant_id)
    assert not clean
    assert "Ledger does not reconcile" in table
    differing = [line for line in table.splitlines() if "DIFFERS" in line]
    assert any(carol.pk in line and f"{carol.amount_due} MYR open" in line
               for line in differing), table
    assert any("receivable" in line for line in differing)
    assert any("clearing" in line and "1100-sandbox" in line for line in differing)

"""The console's invoices: search by number or customer, lines inline, read-only money, merchant
scoping, and the void / uncollectible actions with their ledger postings."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from billing.models import AuditEvent, Invoice
from cynco.tenancy import Scope
from ledger.models import JournalEntry, JournalLine
from tests.billing.admin_console import act, declined_renewal, staff_client
from tests.billing.subscribing import (
    DAY, advance, current, customer, invoices, main_catalog, subscribe_paid,
)
from tests.factories import Api

pytestmark = pytest.mark.django_db(transaction=True)
PAGE = "/admin/billing/invoice/"


@pytest.fixture
def open_invoice(api):
    main_catalog(api)
    customer(api)
    return declined_renewal(api)


def balance(invoice: Invoice, code: str) -> int:
    sums = JournalLine.objects.for_scope(Scope(invoice.merchant_id, invoice.environment)).filter(
        account__code=code).aggregate(d=Sum("debit"), c=Sum("credit"))
    return (sums["d"] or 0) - (sums["c"] or 0)


def test_an_operator_finds_an_invoice_by_number_customer_and_status(operator, open_invoice):
    number = open_invoice.number.encode()
    assert number in operator.get(f"{PAGE}?q={open_invoice.number}").content
    assert number in operator.get(f"{PAGE}?q=user_1&status=open&environment=test").content
    assert number not in operator.get(f"{PAGE}?status=paid").content
    product = open_invoice.subscription.product_id
    assert number in operator.get(f"{PAGE}?subscription__product__id__exact={product}").content
    page = operator.get(f"{PAGE}{open_invoice.pk}/change/").content.decode()
    assert "MYR 20.00" in operator.get(PAGE).content.decode()
    assert "Pro" in page and "subscription" in page  # its lines, inline
    assert operator.get(f"{PAGE}{open_invoice.pk}/history/").status_code == 200


def test_money_on_an_invoice_cannot_be_edited_by_hand(operator, open_invoice):
    before = Invoice.objects.values().get(pk=open_invoice.pk)
    page = operator.get(f"{PAGE}{open_invoice.pk}/change/").content.decode()
    assert 'name="total"' not in page and 'name="amount_due"' not in page
    operator.post(f"{PAGE}{open_invoice.pk}/change/", {
        "total": "1", "amount_due": "0", "status": "paid",
        "lines-TOTAL_FORMS": "0", "lines-INITIAL_FORMS": "0"})
    assert Invoice.objects.values().get(pk=open_invoice.pk) == before
    assert operator.get(f"{PAGE}add/").status_code == 403


def test_voiding_an_open_invoice_reverses_its_entry(operator, api, open_invoice):
    assert balance(open_invoice, "1200") == 2000
    act(operator, PAGE, "void_invoices", [open_invoice.pk])
    open_invoice.refresh_from_db()
    assert (open_invoice.status, open_invoice.amount_due) == ("void", 0)
    assert current(api)["pro"]["status"] == "past_due"  # recovers at its next retry
    advance(api, 2 * DAY)
    assert current(api)["pro"]["status"] == "active"
    assert balance(open_invoice, "1200") == 0
    reversal = JournalEntry.objects.get(kind="reversal", invoice_id=open_invoice.pk)
    assert reversal.reversal_of.kind == "invoice_finalized"
    assert balance(open_invoice, "4001") == -2000  # only the first period's revenue is left
    assert AuditEvent.objects.filter(event="invoice.voided", resource_id=open_invoice.pk).exists()
    statuses = {i["number"]: i["status"] for i in invoices(api)}
    assert statuses[open_invoice.number] == "void"


def test_marking_an_open_invoice_uncollectible_writes_it_off_and_ends_dunning(
        operator, api, open_invoice):
    assert current(api)["pro"]["status"] == "past_due"
    act(operator, PAGE, "mark_uncollectible", [open_invoice.pk])
    open_invoice.refresh_from_db()
    assert open_invoice.status == "uncollectible"
    assert "pro" not in current(api)  # canceled now, as at the end of dunning
    assert balance(open_invoice, "1200") == 0 and balance(open_invoice, "6200") == 2000
    assert JournalEntry.objects.filter(kind="write_off", invoice_id=open_invoice.pk).count() == 1


def test_a_paid_invoice_can_be_neither_voided_nor_written_off(operator, open_invoice):
    paid = Invoice.objects.get(customer=open_invoice.customer, status="paid")
    answer = act(operator, PAGE, "void_invoices", [paid.pk]).content.decode()
    assert "is paid, not open" in answer
    act(operator, PAGE, "mark_uncollectible", [paid.pk])
    paid.refresh_from_db()
    assert paid.status == "paid"
    assert not JournalEntry.objects.filter(invoice_id=paid.pk, kind__in=["reversal",
                                                                        "write_off"]).exists()


def test_staff_see_and_change_only_their_merchants_invoices(open_invoice, merchant,
                                                             other_merchant):
    theirs = Api(other_merchant.secret_test)
    main_catalog(theirs)
    customer(theirs, "their_user")
    subscribe_paid(theirs, "pro", "their_user")
    their_invoice = Invoice.objects.get(customer__external_id="their_user")
    clerk = staff_client(merchant.merchant, models=("invoice",))

    listing = clerk.get(PAGE).content.decode()
    assert f'value="{open_invoice.pk}"' in listing and their_invoice.pk not in listing
    assert clerk.get(f"{PAGE}{their_invoice.pk}/change/").status_code in (302, 404)
    act(clerk, PAGE, "void_invoices", [their_invoice.pk])
    assert Invoice.objects.get(pk=their_invoice.pk).status == "paid"
    reader = staff_client(merchant.merchant, models=("invoice",), can_change=False, name="ro")
    act(reader, PAGE, "void_invoices", [open_invoice.pk])
    assert Invoice.objects.get(pk=open_invoice.pk).status == "open"
    act(clerk, PAGE, "void_invoices", [open_invoice.pk])
    assert Invoice.objects.get(pk=open_invoice.pk).status == "void"

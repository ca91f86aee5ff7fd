"""Issue 13, part 3: an issued invoice's amounts and lines are fixed (a correction is a credit
note, a new row), and issued invoices, payments and refunds are never deleted. Plain SQL on the
application's own connection (its least-privilege role), refused by PostgreSQL."""

import pytest
from django.db import IntegrityError, connection, transaction

from billing.models import Invoice, InvoiceLine, Refund
from gateways.models import PaymentAttempt
from tests.billing.subscribing import DAY, UPDATE, advance, customer, main_catalog, subscribe_paid
from tests.factories import data_of

pytestmark = pytest.mark.django_db(transaction=True)


def _sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _refused(statement: str, params=(), match: str = "issued|deleted|fixed") -> None:
    with pytest.raises(IntegrityError, match=match):
        with transaction.atomic():
            _sql(statement, params)


@pytest.fixture
def paid_and_refunded(api):
    """A paid pro invoice (2000), its charge, and a refund of the unused part."""
    main_catalog(api)
    customer(api)
    subscribe_paid(api, "pro")
    advance(api, 10 * DAY)
    data_of(api.post(UPDATE, {"customer": "user_1", "product": "pro",
                              "cancelAction": "cancel_immediately"}))
    invoice = Invoice.objects.get(status="paid", total=2000)
    return invoice, PaymentAttempt.objects.get(kind="charge"), Refund.objects.get()


@pytest.mark.parametrize("change", [
    "total = 1", "subtotal = subtotal + 1", "tax_amount = 5", "discount_amount = 100",
    "currency = 'USD'", "status = 'draft'",
])
def test_a_paid_invoices_amounts_cannot_be_changed(paid_and_refunded, change):
    invoice, _, _ = paid_and_refunded
    _refused(f"UPDATE billing_invoice SET {change} WHERE id = %s", [invoice.pk])
    invoice.refresh_from_db()
    assert (invoice.total, invoice.currency, invoice.status) == (2000, "MYR", "paid")


def test_a_paid_invoices_lines_cannot_be_changed_added_or_deleted(paid_and_refunded):
    invoice, _, _ = paid_and_refunded
    line = invoice.lines.get(position=0)
    _refused("UPDATE billing_invoiceline SET amount = 1 WHERE id = %s", [line.pk])
    _refused("DELETE FROM billing_invoiceline WHERE id = %s", [line.pk])
    _refused(
        "INSERT INTO billing_invoiceline (id, invoice_id, position, type, description, quantity,"
        " unit_amount, amount) VALUES ('il_sneaked', %s, 99, 'one_off', 'x', 1, 500, 500)",
        [invoice.pk])
    # Not even in a transaction that first touches the invoice itself.
    with pytest.raises(IntegrityError, match="issued"):
        with transaction.atomic():
            _sql("UPDATE billing_invoice SET amount_paid = amount_paid WHERE id = %s",
                 [invoice.pk])
            _sql("INSERT INTO billing_invoiceline (id, invoice_id, position, type, description,"
                 " quantity, unit_amount, amount) VALUES ('il_sneaked', %s, 99, 'one_off', 'x',"
                 " 1, 500, 500)", [invoice.pk])
    assert list(InvoiceLine.objects.filter(invoice=invoice).values_list("amount", flat=True)) \
        == [line.amount for line in invoice.lines.all()]
    assert InvoiceLine.objects.get(pk=line.pk).amount == line.amount


def test_issued_invoices_payments_and_refunds_cannot_be_deleted(paid_and_refunded):
    invoice, charge, refund = paid_and_refunded
    _refused("DELETE FROM billing_refund WHERE id = %s", [refund.pk])
    _refused("DELETE FROM gateways_paymentattempt WHERE id = %s", [charge.pk])
    _refused("DELETE FROM billing_invoiceline WHERE invoice_id = %s", [invoice.pk])
    _refused("DELETE FROM billing_invoice WHERE id = %s", [invoice.pk])
    assert Invoice.objects.filter(pk=invoice.pk).exists()
    assert Refund.objects.filter(pk=refund.pk).exists()
    assert PaymentAttempt.objects.filter(pk=charge.pk).exists()


def test_what_an_issued_invoice_may_still_do_goes_on_working(paid_and_refunded):
    # Payment, voiding and new rows (a credit note is a row of its own) are not amounts.
    invoice, _, _ = paid_and_refunded
    _sql("UPDATE billing_invoice SET status = 'void', voided_at = now() WHERE id = %s",
         [invoice.pk])
    assert Invoice.objects.get(pk=invoice.pk).status == "void"

"""An operator refunds a paid invoice from the console, in part or in full: the preview says
what will go back, the confirmation runs billing.services.invoice_refunds (the cancel-now refund
flow), the gateway refunds the card, a credit note gives back the tax's share, and no more than
was paid can ever go back."""

from __future__ import annotations

import pytest

from billing.models import AuditEvent, CreditNote, Customer, Invoice, Refund
from cynco.tenancy import Scope
from ledger import chart_of_accounts as chart
from ledger.models import JournalLine
from tests.billing.admin_console import staff_client
from tests.billing.subscribing import customer, main_catalog, subscribe_paid

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def paid(api, settings):
    """Jane paid Pro with 8 % tax: 2000 + 160 = MYR 21.60."""
    settings.INVOICE_TAX_RATE_PERCENT = 8.0
    main_catalog(api)
    customer(api, "jane")
    subscribe_paid(api, "pro", "jane")
    jane = Customer.objects.get(external_id="jane")
    return jane, Invoice.objects.get(customer=jane, status="paid")


def action(jane) -> str:
    return f"/admin/billing/customer/{jane.pk}/actions/refund_invoice/"


def tax_payable(jane) -> int:
    lines = JournalLine.objects.filter(merchant_id=jane.merchant_id, environment="test",
                                       account__code=chart.TAX_PAYABLE)
    return sum(line.credit - line.debit for line in lines)


def test_half_then_the_rest_goes_back_with_its_share_of_tax(operator, paid):
    jane, invoice = paid
    assert (invoice.amount_paid, invoice.tax_amount, tax_payable(jane)) == (2160, 160, 160)
    preview = operator.get(action(jane), {"invoice": invoice.pk, "amount": 1080}).content
    assert b"MYR 10.80" in preview and b"Left to refund" in preview
    assert not Refund.objects.exists()  # GET changes nothing

    operator.post(action(jane), {"invoice": invoice.pk, "amount": 1080, "reason": "goodwill"})
    half = Refund.objects.get()
    assert (half.status, half.amount, half.reason) == ("succeeded", 1080, "goodwill")
    note = CreditNote.objects.get(refund=half)
    assert (note.subtotal, note.tax_amount, note.total) == (1000, 80, 1080)
    assert tax_payable(jane) == 80
    audit = AuditEvent.objects.get(event="console.refund_invoice")
    assert audit.details["amount"] == 1080 and audit.details["staff"]

    operator.post(action(jane), {"invoice": invoice.pk})  # empty amount: all that is left
    rest = Refund.objects.exclude(pk=half.pk).get()
    assert rest.amount == 1080 and rest.status == "succeeded"
    assert tax_payable(jane) == 0  # all 160 given back, never more


def test_more_than_is_left_is_refused_and_nothing_is_written(operator, paid):
    jane, invoice = paid
    page = operator.post(action(jane), {"invoice": invoice.pk, "amount": 2161}).content
    assert b"is left to refund" in page
    operator.post(action(jane), {"invoice": invoice.pk})
    again = operator.post(action(jane), {"invoice": invoice.pk, "amount": 1}).content
    assert b"Nothing is left to refund" in again
    assert Refund.objects.count() == 1
    assert AuditEvent.objects.filter(event="console.refund_invoice").count() == 1


def test_another_merchants_staff_cannot_refund_janes_invoice(other_merchant, paid):
    jane, invoice = paid
    clerk = staff_client(other_merchant.merchant, models=("customer",))
    assert clerk.get(action(jane), {"invoice": invoice.pk}).status_code == 404
    assert clerk.post(action(jane), {"invoice": invoice.pk}).status_code == 404
    assert not Refund.objects.exists()


def test_the_service_refuses_two_operators_refunding_the_same_money(paid):
    from django.db import transaction

    from billing.services.audit import SYSTEM
    from billing.services.invoice_refunds import invoice_refund
    from cynco import clock
    from cynco.errors import Conflict

    jane, invoice = paid
    scope = Scope(jane.merchant_id, "test")
    with transaction.atomic():
        invoice_refund(scope=scope, invoice_id=invoice.pk, amount=None, reason="",
                       at=clock.now(scope), actor=SYSTEM)
    with pytest.raises(Conflict), transaction.atomic():
        invoice_refund(scope=scope, invoice_id=invoice.pk, amount=None, reason="",
                       at=clock.now(scope), actor=SYSTEM)

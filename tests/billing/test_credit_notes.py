"""Tax follows the money back: every refund, credit and write-off is a credit note that gives
back its share of tax (docs/accounting.md), numbered CN-TEST-…, readable through the API, shown
in the portal and posted as one journal entry. The figures are the audit's (tax at 8 %)."""

import pytest
from django.db import transaction

from billing.models import CreditNote, Invoice, Subscription
from billing.services.audit import SYSTEM
from billing.services.refunds import refund_decide
from cynco import clock
from cynco.locks import lock_customer
from cynco.tenancy import Scope
from ledger.models import JournalEntry
from tests.billing.catalog import define, monthly
from tests.billing.money import balances
from tests.billing.subscribing import (
    DAY, LATER_DECLINED_CARD, UPDATE, advance, current, customer, invoices, main_catalog,
    subscribe, subscribe_paid,
)
from tests.factories import data_of, error_of
from tests.ledger.accounting import postings

pytestmark = pytest.mark.django_db(transaction=True)

CREDIT_NOTES = "/api/v1/pay/credit-notes"


@pytest.fixture
def taxed(settings):
    settings.INVOICE_TAX_RATE_PERCENT = 8


@pytest.fixture
def shop(api, taxed):
    main_catalog(api)
    define(api, {"name": "Studio", "slug": "studio", "groupSlug": "main", "sortOrder": 5,
                 "prices": [monthly(20000)], "features": []})
    define(api, {"name": "Seats", "slug": "seat", "isAddOn": True, "prices": [monthly(2724)],
                 "features": []})
    customer(api)


def the_entry(note: CreditNote) -> list[tuple[str, str, int]]:
    return postings(JournalEntry.objects.get(pk=note.journal_entry_id))


def test_a_refund_of_21067_on_21600_with_1600_tax_gives_back_1561_of_tax(api, shop, client,
                                                                           merchant):
    subscribe_paid(api, "studio")
    [paid] = invoices(api)
    assert (paid["subtotal"], paid["taxAmount"], paid["total"]) == (20000, 1600, 21600)
    studio = Subscription.objects.get(product__slug="studio")
    scope = Scope(merchant.merchant.id, "test")
    with transaction.atomic():  # the refund is sent once this commits
        lock_customer(studio.customer_id)
        refund_decide(scope=scope, subscription=studio, amount=21067, reason="Goodwill",
                      at=clock.now(scope), actor=SYSTEM)

    note = CreditNote.objects.get()
    assert (note.number, note.type, note.currency) == ("CN-TEST-000001", "refund", "MYR")
    assert (note.subtotal, note.tax_amount, note.total) == (19506, 1561, 21067)
    assert [(line.type, line.amount) for line in note.lines.all()] == [
        ("refund", 19506), ("tax", 1561)]
    assert the_entry(note) == [("DR", "2300", 1561), ("DR", "4910", 19506),
                               ("CR", "1100-sandbox", 21067)]
    books = balances(api)
    assert books["2300"] == -39  # the tax of the 533 kept, no more
    assert -(books["4001"] + books["4910"]) == 494  # net revenue: 533 kept less its 39 tax

    listed = data_of(api.get(f"{CREDIT_NOTES}?customer=user_1"))
    assert [(n["number"], n["type"], n["total"], n["taxAmount"], n["invoiceId"])
            for n in listed] == [("CN-TEST-000001", "refund", 21067, 1561, paid["id"])]
    one = data_of(api.get(f"{CREDIT_NOTES}/{note.id}"))
    assert one["lines"] == [{"type": "refund", "description": "Goodwill", "amount": 19506},
                            {"type": "tax", "description": "Tax given back", "amount": 1561}]
    assert one["refundId"] == note.refund_id and one["invoiceNumber"] == paid["number"]
    assert error_of(api.get(f"{CREDIT_NOTES}/pcn_nope"))["code"] == "NOT_FOUND"

    url = data_of(api.get("/api/v1/pay/portal?customer=user_1"))["url"]
    page = client.get(url.removeprefix("http://127.0.0.1:8000")).content.decode()
    assert "CN-TEST-000001" in page and "-MYR 210.67" in page


def test_three_seats_paid_5884_and_back_to_one_credits_5884_tax_included(api, shop):
    subscribe_paid(api, "pro")
    assert subscribe(api, "seat")["action"] == "activated"  # 2724 + 218 tax, saved card
    more = data_of(api.post(UPDATE, {"customer": "user_1", "product": "seat", "quantity": 3}))
    assert more["total"] == 5448  # two seats for (almost) the whole period, net of tax
    increase = Invoice.objects.get(reason="subscription_update")
    assert (increase.tax_amount, increase.total) == (436, 5884)

    data_of(api.post(UPDATE, {"customer": "user_1", "product": "seat", "quantity": 1}))
    note = CreditNote.objects.get()
    assert note.type == "credit"
    assert (note.subtotal, note.tax_amount, note.total) == (5448, 436, 5884)
    assert the_entry(note) == [("DR", "2300", 436), ("DR", "4001", 5448),
                               ("CR", "2100", 5884)]
    books = balances(api)
    assert books["2100"] == -5884  # kept for the next invoices, tax included
    assert books["2300"] == -(160 + 218)  # Pro's and the first seat's tax: the rest went back


def test_twelve_quantity_changes_netting_minus_one_leave_only_the_tax_of_what_was_kept(
        api, shop):
    subscribe_paid(api, "pro")
    subscribe(api, "seat", quantity=3)
    for quantity in (5, 2, 6, 1, 4, 3, 7, 2, 5, 1, 3, 2):  # 12 changes, from 3 to 2
        advance(api, DAY)
        data_of(api.post(UPDATE, {"customer": "user_1", "product": "seat",
                                  "quantity": quantity}))
    assert current(api)["seat"]["quantity"] == 2
    charged = sum(i.tax_amount for i in Invoice.objects.filter(tax_amount__gt=0))
    given_back = sum(n.tax_amount for n in CreditNote.objects.all())
    assert given_back > 0
    books = balances(api)
    assert -books["2300"] == charged - given_back  # the books say what the documents say
    net_revenue = -books["4001"]
    # 2300 holds 8 % of the revenue kept, give or take a sen of rounding per document.
    documents = Invoice.objects.count() + CreditNote.objects.count()
    assert abs(-books["2300"] - net_revenue * 8 / 100) <= documents


def test_a_write_off_of_2160_gives_back_its_160_of_tax(api, taxed, merchant):
    main_catalog(api)
    customer(api)
    subscribe_paid(api, "pro", card=LATER_DECLINED_CARD)  # 2000 + 160 paid on the page
    advance(api, 31 * DAY)  # the renewal is declined
    advance(api, 6 * DAY)  # dunning gives up: the renewal is written off
    renewal = Invoice.objects.get(reason="subscription_cycle")
    assert (renewal.status, renewal.total, renewal.tax_amount) == ("uncollectible", 2160, 160)
    note = CreditNote.objects.get()
    assert (note.type, note.invoice_id) == ("write_off", renewal.id)
    assert (note.subtotal, note.tax_amount, note.total) == (2000, 160, 2160)
    assert the_entry(note) == [("DR", "2300", 160), ("DR", "6200", 2000),
                               ("CR", "1200", 2160)]
    books = balances(api)
    assert books["2300"] == -160  # the tax of the invoice that was paid, only
    assert "1200" not in books

"""Worked examples of every posting rule, read as accounting."""

from datetime import date

import pytest
from django.db import transaction

from cynco.tenancy import Scope
from ledger import rules
from ledger.models import JournalEntry
from ledger.services.posting import PostingError
from tests.ledger.accounting import close_the_books, postings

pytestmark = pytest.mark.django_db

MAY_1 = date(2026, 5, 1)


def test_a_paid_subscription_invoice_of_2000_posts_receivable_revenue_then_clearing(books):
    invoice = rules.invoice_finalized(
        scope=books, invoice_id="pinv_1", currency="MYR", subscription=2000, date=MAY_1
    )
    payment = rules.payment_captured(
        scope=books, payment_id="pay_1", gateway="sandbox", amount=2000, currency="MYR",
        invoice_id="pinv_1", date=MAY_1,
    )
    close_the_books()

    assert postings(invoice) == [("DR", "1200", 2000), ("CR", "4001", 2000)]
    assert postings(payment) == [("DR", "1100-sandbox", 2000), ("CR", "1200", 2000)]
    assert (invoice.source_type, invoice.source_id, invoice.kind) == (
        "invoice", "pinv_1", "invoice_finalized",
    )
    assert payment.invoice_id == "pinv_1" and payment.date == MAY_1


def test_an_invoice_with_every_kind_of_line_a_discount_and_tax(books):
    # 3000 subscription + 450 overage + 500 setup fee - 300 discount = 3650, plus 219 tax = 3869.
    entry = rules.invoice_finalized(
        scope=books, invoice_id="pinv_2", currency="MYR", subscription=3000, usage=450,
        one_off=500, discount=300, tax=219,
    )
    close_the_books()
    assert postings(entry) == [
        ("DR", "1200", 3869), ("DR", "4900", 300),
        ("CR", "2300", 219), ("CR", "4001", 3000), ("CR", "4002", 450), ("CR", "4003", 500),
    ]


def test_an_overage_invoice_credits_usage_revenue(books):
    entry = rules.invoice_finalized(scope=books, invoice_id="pinv_3", currency="USD", usage=125)
    close_the_books()
    assert postings(entry) == [("DR", "1200", 125), ("CR", "4002", 125)]
    assert {line.currency for line in entry.lines.all()} == {"USD"}


def test_a_fully_discounted_invoice_posts_the_discount_and_owes_nothing(books):
    entry = rules.invoice_finalized(
        scope=books, invoice_id="pinv_4", currency="MYR", subscription=2000, discount=2000
    )
    close_the_books()
    assert postings(entry) == [("DR", "4900", 2000), ("CR", "4001", 2000)]


def test_an_invoice_of_nothing_posts_nothing(books):
    assert rules.invoice_finalized(scope=books, invoice_id="pinv_0", currency="MYR") is None
    assert not JournalEntry.objects.for_scope(books).exists()


def test_a_refund_is_a_contra_revenue_paid_out_of_clearing(books):
    entry = rules.refund_issued(
        scope=books, refund_id="ref_1", gateway="stripe", amount=700, currency="MYR",
        invoice_id="pinv_1",
    )
    close_the_books()
    assert postings(entry) == [("DR", "4910", 700), ("CR", "1100-stripe", 700)]


def test_an_upgrade_credit_and_its_use_on_the_next_invoice(books):
    granted = rules.upgrade_credit_granted(
        scope=books, change_id="psubchg_1", amount=1500, currency="MYR"
    )
    rules.invoice_finalized(scope=books, invoice_id="pinv_5", currency="MYR", subscription=5000)
    used = rules.customer_credit_applied(
        scope=books, invoice_id="pinv_5", amount=1500, currency="MYR"
    )
    close_the_books()
    assert postings(granted) == [("DR", "4001", 1500), ("CR", "2100", 1500)]
    assert postings(used) == [("DR", "2100", 1500), ("CR", "1200", 1500)]


def test_credit_used_twice_on_one_open_invoice_posts_twice_and_once_per_use(books):
    rules.invoice_finalized(scope=books, invoice_id="pinv_6", currency="MYR", subscription=5000)
    first = rules.customer_credit_applied(scope=books, invoice_id="pinv_6", amount=1200,
                                          currency="MYR", application_id="use_1")
    second = rules.customer_credit_applied(scope=books, invoice_id="pinv_6", amount=1000,
                                           currency="MYR", application_id="use_2")
    again = rules.customer_credit_applied(scope=books, invoice_id="pinv_6", amount=1000,
                                          currency="MYR", application_id="use_2")
    close_the_books()
    assert first.pk != second.pk and again.pk == second.pk
    assert postings(second) == [("DR", "2100", 1000), ("CR", "1200", 1000)]
    assert {first.invoice_id, second.invoice_id} == {"pinv_6"}


def test_a_refund_gives_back_its_tax_and_a_write_off_too(books):
    refund = rules.refund_issued(scope=books, refund_id="pref_9", gateway="sandbox",
                                 amount=21067, tax=1561, currency="MYR", invoice_id="pinv_7")
    write_off = rules.invoice_written_off(scope=books, invoice_id="pinv_8", amount=2160,
                                          tax=160, currency="MYR")
    credit = rules.upgrade_credit_granted(scope=books, change_id="pinv_9", amount=5448,
                                          tax=436, currency="MYR")
    assert postings(refund) == [("DR", "2300", 1561), ("DR", "4910", 19506),
                                ("CR", "1100-sandbox", 21067)]
    assert postings(write_off) == [("DR", "2300", 160), ("DR", "6200", 2000),
                                   ("CR", "1200", 2160)]
    assert postings(credit) == [("DR", "2300", 436), ("DR", "4001", 5448),
                                ("CR", "2100", 5884)]


def test_a_write_off_moves_the_unpaid_receivable_to_bad_debt(books):
    entry = rules.invoice_written_off(scope=books, invoice_id="pinv_6", amount=990, currency="MYR")
    close_the_books()
    assert postings(entry) == [("DR", "6200", 990), ("CR", "1200", 990)]


def test_a_gateway_fee_comes_out_of_that_gateways_clearing(books):
    entry = rules.gateway_fee_charged(
        scope=books, payment_id="pay_9", gateway="chip", amount=58, currency="MYR"
    )
    close_the_books()
    assert postings(entry) == [("DR", "6100", 58), ("CR", "1100-chip", 58)]
    assert entry.kind == "gateway_fee" and entry.source_id == "pay_9"


def test_a_new_gateway_gets_its_clearing_sub_account_on_first_use(books):
    entry = rules.payment_captured(
        scope=books, payment_id="pay_2", gateway="paypal", amount=100, currency="MYR"
    )
    close_the_books()
    clearing = entry.lines.get(debit=100).account
    assert (clearing.code, clearing.parent.code) == ("1100-paypal", "1100")


def test_a_reversal_mirrors_the_entry_and_can_happen_once(books):
    invoice = rules.invoice_finalized(
        scope=books, invoice_id="pinv_7", currency="MYR", subscription=2000, tax=120
    )
    reversal = rules.entry_reversed(scope=books, entry_id=invoice.pk)
    again = rules.entry_reversed(scope=books, entry_id=invoice.pk)
    close_the_books()
    assert postings(reversal) == [("DR", "2300", 120), ("DR", "4001", 2000), ("CR", "1200", 2120)]
    assert reversal.reversal_of_id == invoice.pk and reversal.invoice_id == "pinv_7"
    assert again.pk == reversal.pk


def test_calling_a_rule_again_for_the_same_source_returns_the_first_entry(books):
    first = rules.payment_captured(
        scope=books, payment_id="pay_3", gateway="sandbox", amount=2000, currency="MYR"
    )
    retry = rules.payment_captured(
        scope=books, payment_id="pay_3", gateway="sandbox", amount=2000, currency="MYR"
    )
    assert retry.pk == first.pk
    assert JournalEntry.objects.for_scope(books).count() == 1
    assert first.lines.count() == 2


def test_the_same_source_in_another_merchant_or_environment_is_its_own_entry(books, live_books):
    test_entry = rules.invoice_written_off(
        scope=books, invoice_id="pinv_8", amount=10, currency="MYR"
    )
    live_entry = rules.invoice_written_off(
        scope=live_books, invoice_id="pinv_8", amount=10, currency="MYR"
    )
    close_the_books()
    assert test_entry.pk != live_entry.pk
    assert {line.account.environment for line in live_entry.lines.all()} == {"live"}


@pytest.mark.parametrize(
    "call",
    [
        lambda s: rules.payment_captured(scope=s, payment_id="p", gateway="sandbox", amount=0,
                                         currency="MYR"),
        lambda s: rules.payment_captured(scope=s, payment_id="p", gateway="sandbox", amount=-5,
                                         currency="MYR"),
        lambda s: rules.payment_captured(scope=s, payment_id="p", gateway="sandbox", amount=True,
                                         currency="MYR"),
        lambda s: rules.payment_captured(scope=s, payment_id="p", gateway="Sand Box", amount=5,
                                         currency="MYR"),
        lambda s: rules.payment_captured(scope=s, payment_id="p", gateway="sandbox", amount=5,
                                         currency="myr"),
        lambda s: rules.payment_captured(scope=s, payment_id="", gateway="sandbox", amount=5,
                                         currency="MYR"),
        lambda s: rules.invoice_finalized(scope=s, invoice_id="i", currency="MYR",
                                          subscription=100, discount=101),
        lambda s: rules.invoice_finalized(scope=s, invoice_id="i", currency="MYR",
                                          subscription=100, tax=-1),
        lambda s: rules.invoice_finalized(scope=s, invoice_id="i", currency="MYR",
                                          subscription="100"),
        lambda s: rules.entry_reversed(scope=s, entry_id="je_missing"),
    ],
)
def test_values_that_cannot_make_a_balanced_entry_are_refused_before_posting(books, call):
    with pytest.raises(PostingError):
        call(books)
    assert not JournalEntry.objects.for_scope(books).exists()


def test_an_entry_rolls_back_with_the_business_event_that_failed(books):
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            rules.invoice_finalized(scope=books, invoice_id="pinv_9", currency="MYR",
                                    subscription=2000)
            raise RuntimeError("the invoice could not be saved")
    assert not JournalEntry.objects.for_scope(books).exists()
    retried = rules.invoice_finalized(scope=books, invoice_id="pinv_9", currency="MYR",
                                      subscription=2000)
    close_the_books()
    assert postings(retried) == [("DR", "1200", 2000), ("CR", "4001", 2000)]


def test_another_merchants_entry_cannot_be_reversed_from_these_books(books, other_merchant):
    theirs = rules.invoice_finalized(
        scope=Scope(other_merchant.merchant.id, "test"), invoice_id="pinv_x", currency="MYR",
        subscription=10,
    )
    with pytest.raises(PostingError):
        rules.entry_reversed(scope=books, entry_id=theirs.pk)
    assert not JournalEntry.objects.filter(reversal_of=theirs).exists()

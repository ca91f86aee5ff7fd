"""Issue 13, part 3: what the database cannot refuse — a balanced entry entered by hand, or the
owner role's writes with the triggers off — `reconcile_ledger` names."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from cynco.tenancy import Scope
from ledger import rules
from ledger.models import Account, ReconciliationRun
from tests.factories import make_merchant
from tests.ledger.billing_records import PROVIDER, RECORDS
from tests.owner_role import owner_connection

commits = pytest.mark.django_db(transaction=True)


@pytest.fixture
def books(transactional_db, settings):
    """Committed books of merchant A whose billing records (the stand-in provider) give the
    source of every entry: an invoice of 54000 (subscription), paid through the sandbox."""
    settings.LEDGER_RECONCILIATION_SOURCES = [PROVIDER]
    scope = Scope(make_merchant("A").merchant.id, "test")
    rules.invoice_finalized(scope=scope, invoice_id="inv_1", currency="MYR", subscription=54000)
    rules.payment_captured(scope=scope, payment_id="pay_1", gateway="sandbox", amount=54000,
                           currency="MYR", invoice_id="inv_1")
    records = RECORDS[scope]
    records.owed["inv_1"] = ("MYR", 0)
    records.paid.add("inv_1")
    records.move_clearing("sandbox", "MYR", 54000)
    records.sources = {("invoice", "inv_1", "invoice_finalized"): 54000,
                       ("payment", "pay_1", "payment_captured"): 54000}
    yield scope
    RECORDS.pop(scope, None)


def _differences(scope: Scope) -> set[tuple]:
    try:
        call_command("reconcile_ledger", merchant=scope.merchant_id, environment="test",
                     stdout=StringIO())
    except CommandError:
        pass
    run = ReconciliationRun.objects.order_by("-started_at").first()
    return {(r["check"], r["subject"], r["expected"], r["actual"]) for r in run.rows
            if not r["ok"]}


def _account_id(scope: Scope, code: str) -> str:
    return Account.objects.for_scope(scope).get(code=code).pk


@commits
def test_clean_books_have_no_differences(books):
    assert _differences(books) == set()


@commits
def test_a_balanced_reclass_entered_by_hand_is_named(books):
    # Accepted by the database: balanced, one merchant environment, one currency.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_journalentry (id, merchant_id, environment, date, memo,"
            " source_type, source_id, kind, invoice_id) VALUES ('je_reclass', %s, 'test',"
            " CURRENT_DATE, 'reclass', 'invoice', 'inv_1', 'write_off', 'inv_1')",
            [books.merchant_id])
        cursor.execute(
            "INSERT INTO ledger_journalline (id, merchant_id, environment, entry_id, account_id,"
            " debit, credit, currency) VALUES ('jl_r1', %s, 'test', 'je_reclass', %s, 50000, 0,"
            " 'MYR'), ('jl_r2', %s, 'test', 'je_reclass', %s, 0, 50000, 'MYR')",
            [books.merchant_id, _account_id(books, "4001"),
             books.merchant_id, _account_id(books, "4900")])
    assert _differences(books) == {
        ("posting rules", "entries as their rule posts them", 3, 2),
        ("posting rules", "je_reclass write_off", "DR 2300/6200 CR 1200",
         "DR 4001 50000, CR 4900 50000"),
        ("entry sources", "entries with their source", 3, 2),
        ("entry sources", "je_reclass write_off of invoice inv_1", "a source in the records",
         "no such source (50000)"),
    }


@commits
def test_a_payment_entered_by_hand_for_a_source_that_does_not_exist_is_named(books):
    rules.payment_captured(scope=books, payment_id="pay_ghost", gateway="sandbox", amount=700,
                           currency="MYR")
    RECORDS[books].move_clearing("sandbox", "MYR", 700)  # even with clearing made to agree
    differences = _differences(books)
    assert ("entry sources", differences and next(
        s for c, s, _, _ in differences if s.endswith("pay_ghost")),
        "a source in the records", "no such source (700)") in differences


@commits
def test_an_account_type_or_code_off_the_chart_is_named(books):
    with connection.cursor() as cursor:  # no lines yet: the database allows it
        cursor.execute("UPDATE ledger_account SET type = 'liability', normal_balance = 'credit'"
                       " WHERE id = %s", [_account_id(books, "6200")])
        cursor.execute("UPDATE ledger_account SET code = '6300' WHERE id = %s",
                       [_account_id(books, "6100")])
    differences = _differences(books)
    assert ("chart of accounts", "account 6200", "expense/debit", "liability/credit") \
        in differences
    assert ("chart of accounts", "account 6300", "in the chart",
            "not in the chart (expense/debit)") in differences


@commits
def test_the_owner_roles_writes_with_the_triggers_off_are_named(books):
    stranger = Scope(make_merchant("B").merchant.id, "test")
    with owner_connection() as owner:
        for table in ("ledger_journalline", "ledger_journalentry", "ledger_account"):
            owner.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        # A's 1200 (with lines) becomes a liability; an unbalanced entry with a line on B's 4001
        # and one on the parent 1100; and a line of A's paid invoice is deleted.
        owner.execute("UPDATE ledger_account SET type = 'liability' WHERE id = %s",
                      [_account_id(books, "1200")])
        owner.execute(
            "INSERT INTO ledger_journalentry (id, merchant_id, environment, date, memo,"
            " source_type, source_id, kind, invoice_id) VALUES ('je_owner', %s, 'test',"
            " CURRENT_DATE, '', 'invoice', 'inv_x', 'invoice_finalized', '')",
            [books.merchant_id])
        owner.execute(
            "INSERT INTO ledger_journalline (id, merchant_id, environment, entry_id, account_id,"
            " debit, credit, currency) VALUES ('jl_o1', %s, 'test', 'je_owner', %s, 900, 0,"
            " 'MYR'), ('jl_o2', %s, 'test', 'je_owner', %s, 0, 500, 'MYR')",
            [books.merchant_id, _account_id(books, "1100"),
             books.merchant_id, _account_id(stranger, "4001")])
        owner.execute("DELETE FROM ledger_journalline WHERE entry_id IN (SELECT id FROM"
                      " ledger_journalentry WHERE kind = 'payment_captured' AND merchant_id = %s)"
                      " AND credit > 0", [books.merchant_id])
        owner.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign keys' checks, then on again
        for table in ("ledger_journalline", "ledger_journalentry", "ledger_account"):
            owner.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    checks = {check for check, _, _, _ in _differences(books)}
    assert checks >= {"entries balance", "no orphan lines", "trial balance", "chart of accounts",
                      "posting rules", "entry sources", "receivable", "paid invoices settled"}


@commits
def test_the_owner_roles_truncate_is_named(books):
    with owner_connection() as owner:
        owner.execute("TRUNCATE ledger_journalline")
    differences = _differences(books)
    assert ("entries have lines", "entries without lines", 0, 2) in differences
    assert ("paid invoice", "inv_1", "settled", "no finalized entry") not in differences
    assert ("clearing", "1100-sandbox MYR", 54000, 0) in differences

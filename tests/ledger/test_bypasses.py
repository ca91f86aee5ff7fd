"""Issue 13, part 3: every way around the ledger's rules found in the audit, sent as plain SQL on
the application's own connection (its least-privilege role), is refused by PostgreSQL."""

import pytest
from django.db import IntegrityError, connection, transaction

from cynco.tenancy import Scope
from ledger import rules
from ledger.models import Account, JournalEntry, JournalLine
from tests.factories import make_merchant

commits = pytest.mark.django_db(transaction=True)


def _sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _account_id(scope: Scope, code: str) -> str:
    return Account.objects.for_scope(scope).get(code=code).pk


def _entry(scope: Scope, entry_id: str) -> None:
    _sql(
        "INSERT INTO ledger_journalentry (id, merchant_id, environment, date, memo, source_type,"
        " source_id, kind, invoice_id) VALUES (%s, %s, %s, CURRENT_DATE, 'by hand', 'invoice',"
        " %s, 'invoice_finalized', '')",
        [entry_id, scope.merchant_id, scope.environment, f"inv_{entry_id}"],
    )


def _line(scope: Scope, line_id: str, entry_id: str, code: str, debit: int, credit: int,
          currency: str = "MYR") -> None:
    """A line of `scope` (its merchant, environment and account)."""
    _sql(
        "INSERT INTO ledger_journalline (id, merchant_id, environment, entry_id, account_id,"
        " debit, credit, currency) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        [line_id, scope.merchant_id, scope.environment, entry_id, _account_id(scope, code),
         debit, credit, currency],
    )


@pytest.fixture
def two_merchants(transactional_db):
    return (Scope(make_merchant("A").merchant.id, "test"),
            Scope(make_merchant("B").merchant.id, "test"))


@commits
def test_lines_of_merchant_b_inserted_before_an_entry_of_merchant_a_are_refused(two_merchants):
    a, b = two_merchants
    with pytest.raises(IntegrityError, match="one merchant environment"):
        with transaction.atomic():
            _line(b, "jl_b1", "je_x", "1200", 5400, 0)
            _line(b, "jl_b2", "je_x", "4001", 0, 5400)
            _entry(a, "je_x")
    assert not JournalEntry.objects.filter(pk="je_x").exists()
    assert not JournalLine.objects.filter(entry_id="je_x").exists()


@commits
def test_an_entry_of_merchant_b_with_lines_of_merchant_a_is_refused(two_merchants):
    a, b = two_merchants
    with pytest.raises(IntegrityError, match="one merchant environment"):
        with transaction.atomic():
            _line(a, "jl_a1", "je_y", "1200", 700, 0)
            _line(a, "jl_a2", "je_y", "4001", 0, 700)
            _entry(b, "je_y")
    assert not JournalEntry.objects.filter(pk="je_y").exists()


@commits
def test_a_live_entry_with_test_lines_is_refused(two_merchants):
    a, _ = two_merchants
    live = Scope(a.merchant_id, "live")
    with pytest.raises(IntegrityError, match="one merchant environment"):
        with transaction.atomic():
            _line(a, "jl_t1", "je_live", "1200", 300, 0)
            _line(a, "jl_t2", "je_live", "4001", 0, 300)
            _entry(live, "je_live")
    assert not JournalEntry.objects.filter(pk="je_live").exists()


@commits
def test_an_entry_in_two_currencies_is_refused_even_when_each_balances(two_merchants):
    a, _ = two_merchants
    with pytest.raises(IntegrityError, match="one currency"):
        with transaction.atomic():
            _line(a, "jl_m1", "je_fx", "1200", 300, 0, "MYR")
            _line(a, "jl_m2", "je_fx", "4001", 0, 300, "MYR")
            _line(a, "jl_u1", "je_fx", "1200", 100, 0, "USD")
            _line(a, "jl_u2", "je_fx", "4001", 0, 100, "USD")
            _entry(a, "je_fx")


@commits
@pytest.mark.parametrize("column, value", [
    ("merchant_id", "other"), ("environment", "'live'"), ("code", "'4999'"),
    ("type", "'liability'"), ("normal_balance", "'credit'"), ("parent_id", "parent"),
])
def test_an_account_with_lines_keeps_its_merchant_environment_code_and_type(
    two_merchants, column, value
):
    a, b = two_merchants
    rules.invoice_finalized(scope=a, invoice_id="inv_1", currency="MYR", subscription=5400,
                            discount=100)
    discounts = _account_id(a, "4900")
    replacement = {"other": f"'{b.merchant_id}'", "parent": f"'{_account_id(a, '1100')}'"}
    with pytest.raises(IntegrityError, match="has journal lines"):
        with transaction.atomic():
            _sql(f"UPDATE ledger_account SET {column} = {replacement.get(value, value)}"
                 " WHERE id = %s", [discounts])
    account = Account.objects.get(pk=discounts)
    assert (account.merchant_id, account.environment, account.code, account.type) == (
        a.merchant_id, "test", "4900", "revenue")


@commits
def test_an_account_without_lines_can_still_be_renamed_and_reclassified(two_merchants):
    a, _ = two_merchants
    _sql("UPDATE ledger_account SET name = 'Receivables', type = 'asset' WHERE id = %s",
         [_account_id(a, "1200")])
    assert Account.objects.get(pk=_account_id(a, "1200")).name == "Receivables"


@commits
def test_a_line_on_a_parent_account_is_refused(two_merchants):
    a, _ = two_merchants
    with pytest.raises(IntegrityError, match="sub-accounts"):
        with transaction.atomic():
            _entry(a, "je_parent")
            _line(a, "jl_p1", "je_parent", "1100", 900, 0)
            _line(a, "jl_p2", "je_parent", "1200", 0, 900)


@commits
def test_an_account_with_lines_cannot_become_a_parent(two_merchants):
    a, _ = two_merchants
    rules.invoice_finalized(scope=a, invoice_id="inv_2", currency="MYR", subscription=100)
    with pytest.raises(IntegrityError, match="has journal lines"):
        with transaction.atomic():
            _sql("INSERT INTO ledger_account (id, merchant_id, environment, code, name, type,"
                 " normal_balance, parent_id, created_at) VALUES ('lacct_child', %s, 'test',"
                 " '1200-a', 'child', 'asset', 'debit', %s, now())",
                 [a.merchant_id, _account_id(a, "1200")])

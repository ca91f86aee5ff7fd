"""PostgreSQL itself refuses to break the books, whatever SQL is sent around the posting rules."""

import threading

import psycopg
import pytest
from django.db import IntegrityError, connection, connections, transaction

from cynco.tenancy import Scope
from ledger import rules
from ledger.models import Account, JournalEntry, JournalLine
from tests.factories import make_merchant
from tests.ledger.accounting import close_the_books, postings

commits = pytest.mark.django_db(transaction=True)


def _sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _account_id(scope: Scope, code: str) -> str:
    return Account.objects.for_scope(scope).get(code=code).pk


def _insert_entry(scope: Scope, entry_id: str, source_id: str = "inv_sql") -> None:
    _sql(
        "INSERT INTO ledger_journalentry (id, merchant_id, environment, date, memo, source_type,"
        " source_id, kind, invoice_id) VALUES (%s, %s, %s, CURRENT_DATE, 'by hand', 'invoice',"
        " %s, 'invoice_finalized', '')",
        [entry_id, scope.merchant_id, scope.environment, source_id],
    )


def _insert_line(scope: Scope, line_id: str, entry_id: str, code: str, debit: int, credit: int,
                 currency: str = "MYR") -> None:
    _sql(
        "INSERT INTO ledger_journalline (id, merchant_id, environment, entry_id, account_id,"
        " debit, credit, currency) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        [line_id, scope.merchant_id, scope.environment, entry_id, _account_id(scope, code),
         debit, credit, currency],
    )


@pytest.fixture
def committed_books(transactional_db):
    return Scope(make_merchant().merchant.id, "test")


@commits
def test_a_commit_with_an_unbalanced_entry_is_refused(committed_books):
    with pytest.raises(IntegrityError, match="does not balance in MYR: debits 2000 <> credits 1999"):
        with transaction.atomic():
            _insert_entry(committed_books, "je_unbalanced")
            _insert_line(committed_books, "jl_1", "je_unbalanced", "1200", 2000, 0)
            _insert_line(committed_books, "jl_2", "je_unbalanced", "4001", 0, 1999)
    assert not JournalEntry.objects.filter(pk="je_unbalanced").exists()


@commits
def test_an_entry_balanced_in_total_but_not_per_currency_is_refused(committed_books):
    with pytest.raises(IntegrityError, match="does not balance"):
        with transaction.atomic():
            _insert_entry(committed_books, "je_fx")
            _insert_line(committed_books, "jl_1", "je_fx", "1200", 100, 0, "MYR")
            _insert_line(committed_books, "jl_2", "je_fx", "4001", 0, 100, "USD")


@commits
def test_an_entry_without_lines_is_refused(committed_books):
    with pytest.raises(IntegrityError, match="has no lines"):
        with transaction.atomic():
            _insert_entry(committed_books, "je_empty")


@commits
def test_a_balanced_entry_inserted_line_by_line_commits(committed_books):
    with transaction.atomic():
        _insert_entry(committed_books, "je_ok")
        _insert_line(committed_books, "jl_1", "je_ok", "1200", 2000, 0)
        _insert_line(committed_books, "jl_2", "je_ok", "4001", 0, 2000)
    assert postings(JournalEntry.objects.get(pk="je_ok")) == [
        ("DR", "1200", 2000), ("CR", "4001", 2000),
    ]


@commits
def test_posted_entries_and_lines_cannot_be_updated_or_deleted(committed_books):
    entry = rules.invoice_finalized(
        scope=committed_books, invoice_id="pinv_1", currency="MYR", subscription=2000
    )
    line = entry.lines.get(debit=2000)
    for statement, params in [
        ("UPDATE ledger_journalline SET debit = 1 WHERE id = %s", [line.pk]),
        ("UPDATE ledger_journalline SET debit = debit WHERE id = %s", [line.pk]),
        ("DELETE FROM ledger_journalline WHERE id = %s", [line.pk]),
        ("UPDATE ledger_journalentry SET memo = 'edited' WHERE id = %s", [entry.pk]),
        ("DELETE FROM ledger_journalentry WHERE id = %s", [entry.pk]),
    ]:
        with pytest.raises(IntegrityError, match="post a reversing entry"):
            with transaction.atomic():
                _sql(statement, params)
    assert postings(entry) == [("DR", "1200", 2000), ("CR", "4001", 2000)]
    with pytest.raises(IntegrityError, match="post a reversing entry"):
        JournalLine.objects.filter(pk=line.pk).update(debit=1)


@commits
def test_a_balanced_pair_cannot_be_slipped_into_an_entry_posted_earlier(committed_books):
    entry = rules.invoice_finalized(
        scope=committed_books, invoice_id="pinv_2", currency="MYR", subscription=2000
    )
    with pytest.raises(IntegrityError, match="already posted"):
        with transaction.atomic():
            _insert_line(committed_books, "jl_late_1", entry.pk, "6200", 500, 0)
            _insert_line(committed_books, "jl_late_2", entry.pk, "1200", 0, 500)
    assert entry.lines.count() == 2


@commits
def test_a_line_cannot_use_another_merchants_account(committed_books):
    stranger = Scope(make_merchant().merchant.id, "test")
    with pytest.raises(IntegrityError, match="one merchant environment"):
        with transaction.atomic():
            _insert_entry(committed_books, "je_mixed")
            _insert_line(committed_books, "jl_1", "je_mixed", "1200", 100, 0)
            _sql(
                "INSERT INTO ledger_journalline (id, merchant_id, environment, entry_id,"
                " account_id, debit, credit, currency)"
                " VALUES ('jl_2', %s, 'test', 'je_mixed', %s, 0, 100, 'MYR')",
                [committed_books.merchant_id, _account_id(stranger, "4001")],
            )


@commits
@pytest.mark.parametrize(
    "debit, credit, currency",
    [(100, 100, "MYR"), (0, 0, "MYR"), (-100, 0, "MYR"), (0, -5, "MYR"), (100, 0, "myr")],
)
def test_a_line_is_one_positive_debit_or_credit_in_a_currency_code(
    committed_books, debit, credit, currency
):
    with pytest.raises(IntegrityError, match="ledger_line_"):
        with transaction.atomic():
            _insert_entry(committed_books, "je_check")
            _insert_line(committed_books, "jl_bad", "je_check", "1200", debit, credit, currency)
    assert not JournalEntry.objects.filter(pk="je_check").exists()


@pytest.mark.django_db
def test_the_deferred_check_can_be_run_early_inside_a_transaction(books):
    _insert_entry(books, "je_early")
    _insert_line(books, "jl_1", "je_early", "1200", 10, 0)
    with pytest.raises(IntegrityError, match="does not balance"):
        with transaction.atomic():
            close_the_books()
    _insert_line(books, "jl_2", "je_early", "4001", 0, 10)  # balanced before the commit: fine
    close_the_books()


@commits
def test_concurrent_retries_of_one_payment_post_exactly_one_entry(committed_books):
    rules.invoice_finalized(
        scope=committed_books, invoice_id="pinv_3", currency="MYR", subscription=2000
    )
    start = threading.Barrier(8)
    results, errors = [], []

    def capture():
        try:
            start.wait()
            with transaction.atomic():
                entry = rules.payment_captured(
                    scope=committed_books, payment_id="pay_raced", gateway="sandbox",
                    amount=2000, currency="MYR", invoice_id="pinv_3",
                )
                threading.Event().wait(0.1)  # hold the transaction open so the others overlap
            results.append(entry.pk)
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=capture) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(results) == 8 and len(set(results)) == 1
    payments = JournalEntry.objects.for_scope(committed_books).filter(kind="payment_captured")
    assert payments.count() == 1
    assert postings(payments.get()) == [("DR", "1100-sandbox", 2000), ("CR", "1200", 2000)]


@commits
def test_a_separate_database_session_is_held_to_the_same_rules(committed_books):
    # Not through Django at all: a plain psycopg connection, as a psql operator would.
    entry = rules.invoice_finalized(
        scope=committed_books, invoice_id="pinv_4", currency="MYR", subscription=2000
    )
    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"}) as other:
        with pytest.raises(psycopg.errors.RestrictViolation):
            other.execute("DELETE FROM ledger_journalline WHERE entry_id = %s", [entry.pk])
    assert entry.lines.count() == 2

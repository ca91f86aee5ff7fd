"""`manage.py reconcile_ledger` and its daily job: the books against themselves and billing."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cynco.celery import app as celery_app
from cynco.tenancy import Scope
from ledger import rules
from ledger.models import Account, ReconciliationRun
from ledger.tasks import reconcile_ledger_daily
from tests.factories import make_merchant
from tests.ledger.billing_records import PROVIDER, RECORDS
from tests.owner_role import owner_connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def billing(books, settings):
    """Billing's records for `books`, registered as a reconciliation source."""
    settings.LEDGER_RECONCILIATION_SOURCES = [PROVIDER]
    RECORDS.pop(books, None)
    yield RECORDS[books]
    RECORDS.pop(books, None)


def _differences() -> set[tuple]:
    """(check, subject, expected, actual) of every differing row of the last recorded run."""
    run = ReconciliationRun.objects.order_by("-started_at").first()
    return {(r["check"], r["subject"], r["expected"], r["actual"]) for r in run.rows if not r["ok"]}


def _reconcile(books) -> tuple[str, bool]:
    out = StringIO()
    try:
        call_command("reconcile_ledger", merchant=books.merchant_id, environment="test",
                     stdout=out)
    except CommandError:
        return out.getvalue(), False
    return out.getvalue(), True


def test_books_that_match_billing_reconcile_and_the_run_is_recorded(books, billing):
    rules.invoice_finalized(scope=books, invoice_id="pinv_1", currency="MYR", subscription=2000)
    rules.payment_captured(scope=books, payment_id="pay_1", gateway="sandbox", amount=2000,
                           currency="MYR", invoice_id="pinv_1")
    rules.invoice_finalized(scope=books, invoice_id="pinv_2", currency="MYR", subscription=500)
    billing.owed.update({"pinv_1": ("MYR", 0), "pinv_2": ("MYR", 500)})
    billing.paid.add("pinv_1")
    billing.move_clearing("sandbox", "MYR", 2000)

    table, clean = _reconcile(books)

    assert clean, table
    assert "receivable" in table and "1100-sandbox MYR" in table and "DIFFERS" not in table
    run = ReconciliationRun.objects.get()
    assert run.ok and run.differences == 0 and run.checks == len(run.rows)
    assert {row["check"] for row in run.rows} >= {
        "entries balance", "entries have lines", "no orphan lines", "trial balance",
        "receivable", "clearing", "paid invoices settled",
    }


def test_receivable_that_disagrees_with_open_invoices_fails_with_a_table(books, billing):
    rules.invoice_finalized(scope=books, invoice_id="pinv_1", currency="MYR", subscription=2000)
    billing.owed["pinv_1"] = ("MYR", 3000)

    table, clean = _reconcile(books)

    assert not clean
    differing = [line for line in table.splitlines() if "DIFFERS" in line]
    assert len(differing) == 1
    assert differing[0].split()[2:7] == ["receivable", "1200", "MYR", "3000", "2000"]
    assert _differences() == {("receivable", "1200 MYR", 3000, 2000)}


def test_clearing_per_gateway_and_paid_invoices_without_their_entries(books, billing):
    rules.invoice_finalized(scope=books, invoice_id="pinv_1", currency="MYR", subscription=900)
    rules.payment_captured(scope=books, payment_id="pay_1", gateway="stripe", amount=400,
                           currency="MYR", invoice_id="pinv_1")
    billing.owed["pinv_1"] = ("MYR", 500)
    billing.paid.update({"pinv_1", "pinv_ghost"})  # billing thinks pinv_1 is fully paid
    billing.move_clearing("stripe", "MYR", 900)
    billing.move_clearing("chip", "MYR", 0)

    table, clean = _reconcile(books)

    assert not clean
    assert _differences() == {
        ("clearing", "1100-stripe MYR", 900, 400),
        ("paid invoices settled", "paid invoices", 2, 0),
        ("paid invoice", "pinv_1", "settled", "500 MYR open"),
        ("paid invoice", "pinv_ghost", "settled", "no finalized entry"),
    }
    assert sum("DIFFERS" in line for line in table.splitlines()) == 4


def test_without_a_provider_only_the_ledgers_own_checks_run(books, settings):
    settings.LEDGER_RECONCILIATION_SOURCES = []
    rules.invoice_finalized(scope=books, invoice_id="pinv_1", currency="MYR", subscription=100)
    table, clean = _reconcile(books)
    assert clean
    checks = {row["check"] for row in ReconciliationRun.objects.get().rows}
    assert checks == {"entries balance", "entries have lines", "no orphan lines", "trial balance",
                      "chart of accounts", "posting rules"}


@pytest.mark.django_db(transaction=True)
def test_the_books_own_checks_catch_what_slipped_past_the_triggers(books):
    # The tables' owner can turn the triggers off (an operator restoring a dump, or anyone
    # holding the migration credentials): a mixed, unbalanced entry and an empty one get in.
    stranger = Scope(make_merchant().merchant.id, "test")
    receivable = Account.objects.for_scope(books).get(code="1200")
    foreign_revenue = Account.objects.for_scope(stranger).get(code="4001")
    with owner_connection() as owner:
        owner.execute("ALTER TABLE ledger_journalentry DISABLE TRIGGER USER")
        owner.execute("ALTER TABLE ledger_journalline DISABLE TRIGGER USER")
        owner.execute(
            "INSERT INTO ledger_journalentry (id, merchant_id, environment, date, memo,"
            " source_type, source_id, kind, invoice_id) VALUES"
            " ('je_bad', %s, 'test', '2026-05-01', '', 'invoice', 'x', 'invoice_finalized', ''),"
            " ('je_empty', %s, 'test', '2026-05-01', '', 'invoice', 'y', 'invoice_finalized', '')",
            [books.merchant_id, books.merchant_id],
        )
        owner.execute(
            "INSERT INTO ledger_journalline (id, merchant_id, environment, entry_id, account_id,"
            " debit, credit, currency) VALUES ('jl_1', %s, 'test', 'je_bad', %s, 700, 0, 'MYR'),"
            " ('jl_2', %s, 'test', 'je_bad', %s, 0, 500, 'MYR')",
            [books.merchant_id, receivable.pk, books.merchant_id, foreign_revenue.pk],
        )
        owner.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign keys' checks, then on again
        owner.execute("ALTER TABLE ledger_journalentry ENABLE TRIGGER USER")
        owner.execute("ALTER TABLE ledger_journalline ENABLE TRIGGER USER")
    table, clean = _reconcile(books)

    assert not clean and sum("DIFFERS" in line for line in table.splitlines()) == 4
    assert _differences() == {
        ("entries balance", "unbalanced entries", 0, 1),
        ("entries have lines", "entries without lines", 0, 1),
        ("no orphan lines", "orphan or mixed lines", 0, 1),
        ("trial balance", "MYR", 0, 200),
    }


def test_the_daily_job_reconciles_every_merchant_and_records_the_run(books, other_merchant):
    rules.invoice_finalized(scope=books, invoice_id="pinv_1", currency="MYR", subscription=100)
    run_id = reconcile_ledger_daily()
    run = ReconciliationRun.objects.get(pk=run_id)
    assert run.ok
    assert {(row["merchant"], row["environment"]) for row in run.rows} >= {
        (books.merchant_id, "test"), (books.merchant_id, "live"),
        (other_merchant.merchant.id, "test"),
    }
    schedule = celery_app.conf.beat_schedule["reconcile-ledger"]
    assert schedule["task"] == "ledger.tasks.reconcile_ledger_daily"

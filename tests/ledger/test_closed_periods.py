"""Issue 13, part 2: closed months are locked. The database refuses entries dated in a closed
month or before the books were opened; corrections post in the open period as reversals;
reopening is a superuser's audited action; a closed month's reports never change."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from billing.models import Invoice
from cynco import clock
from cynco.errors import Forbidden, ValidationFailed
from cynco.tenancy import Scope
from ledger import rules
from ledger.models import Account, Books, JournalEntry, PeriodEvent
from ledger.services.periods import month_end, period_reopen
from tests.billing.subscribing import (
    DAY, UPDATE, advance, customer, main_catalog, subscribe, subscribe_paid,
)
from tests.factories import data_of, make_merchant

commits = pytest.mark.django_db(transaction=True)
LEDGER = "/api/v1/ledger"


def _insert_entry(scope: Scope, entry_id: str, day) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_journalentry (id, merchant_id, environment, date, memo,"
            " source_type, source_id, kind, invoice_id) VALUES (%s, %s, %s, %s, '', 'invoice',"
            " %s, 'invoice_finalized', '')",
            [entry_id, scope.merchant_id, scope.environment, day, f"inv_{entry_id}"])
        for line_id, code, debit, credit in (("1", "1200", 100, 0), ("2", "4001", 0, 100)):
            cursor.execute(
                "INSERT INTO ledger_journalline (id, merchant_id, environment, entry_id,"
                " account_id, debit, credit, currency) VALUES (%s, %s, %s, %s, %s, %s, %s, 'MYR')",
                [f"jl_{entry_id}_{line_id}", scope.merchant_id, scope.environment, entry_id,
                 Account.objects.for_scope(scope).get(code=code).pk, debit, credit])


def _close(scope: Scope, month: str) -> str:
    out = StringIO()
    call_command("close_period", scope.merchant_id, scope.environment, month, "--by", "ops",
                 stdout=out)
    return out.getvalue()


@pytest.fixture
def shop(transactional_db):
    keys = make_merchant("Shop")
    return keys, Scope(keys.merchant.id, "test")


@commits
def test_an_entry_dated_before_the_books_were_opened_is_refused(shop):
    _, scope = shop
    opened = Books.objects.for_scope(scope).get().opened_on
    assert opened == clock.now(scope).date()
    with pytest.raises(IntegrityError, match="before the books were opened"):
        _insert_entry(scope, "je_2020", date(2020, 1, 1))
    with pytest.raises(IntegrityError, match="before the books were opened"):
        rules.invoice_finalized(scope=scope, invoice_id="inv_old", currency="MYR",
                                subscription=100, date=opened - timedelta(days=1))
    _insert_entry(scope, "je_today", opened)  # the opening day itself is open


@commits
def test_a_closed_month_refuses_entries_dated_in_it_or_before(shop):
    _, scope = shop
    opened = clock.now(scope).date()
    _insert_entry(scope, "je_first", opened)
    with pytest.raises(CommandError, match="only a month that is over"):
        _close(scope, f"{opened:%Y-%m}")
    clock.advance(scope=scope, seconds=40 * DAY)
    assert "closed through" in _close(scope, f"{opened:%Y-%m}")
    last = month_end(opened)
    assert Books.objects.for_scope(scope).get().closed_through == last
    for day in (last, opened, date(2020, 1, 1)):
        with pytest.raises(IntegrityError, match="closed period|before the books"):
            _insert_entry(scope, f"je_{day:%Y%m%d}", day)
    _insert_entry(scope, "je_next", last + timedelta(days=1))
    assert _close(scope, f"{opened:%Y-%m}").endswith(f"closed through {last}\n")  # idempotent
    (event,) = PeriodEvent.objects.for_scope(scope)
    assert (event.action, event.month, event.closed_through_after, event.by) == (
        "close", opened.replace(day=1), last, "ops")


@commits
def test_corrections_after_a_close_post_in_the_open_period_as_reversals(shop):
    _, scope = shop
    opened = clock.now(scope).date()
    entry = rules.invoice_finalized(scope=scope, invoice_id="inv_1", currency="MYR",
                                    subscription=2000, date=opened)
    clock.advance(scope=scope, seconds=40 * DAY)
    _close(scope, f"{opened:%Y-%m}")
    reversal = rules.entry_reversed(scope=scope, entry_id=entry.pk, date=opened)
    late = rules.payment_captured(scope=scope, payment_id="pay_late", gateway="sandbox",
                                  amount=2000, currency="MYR", invoice_id="inv_1", date=opened)
    first_open = month_end(opened) + timedelta(days=1)
    assert (reversal.date, late.date) == (first_open, first_open)
    assert JournalEntry.objects.get(pk=entry.pk).date == opened


@commits
def test_reopening_is_a_superusers_audited_action(shop):
    _, scope = shop
    opened = clock.now(scope).date()
    clock.advance(scope=scope, seconds=70 * DAY)
    _close(scope, f"{(month_end(opened) + timedelta(days=1)):%Y-%m}")  # two months closed
    staff = get_user_model().objects.create_user("staff", is_staff=True)
    root = get_user_model().objects.create_superuser("root", "r@example.com", "pw-secret-123")
    with pytest.raises(Forbidden):
        period_reopen(scope=scope, user=staff, reason="fix")
    with pytest.raises(ValidationFailed):
        period_reopen(scope=scope, user=root, reason=" ")
    # Plain SQL on the application's connection cannot move the date back without the audit.
    with pytest.raises(IntegrityError, match="audited"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE ledger_books SET closed_through = NULL WHERE merchant_id = %s"
                           " AND environment = 'test'", [scope.merchant_id])
    with pytest.raises(IntegrityError, match="never deleted|immutable|not allowed|kept"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM ledger_periodevent WHERE merchant_id = %s",
                           [scope.merchant_id])
    books = period_reopen(scope=scope, user=root, reason="late supplier invoice")
    assert books.closed_through == month_end(opened)
    reopen = PeriodEvent.objects.for_scope(scope).get(action="reopen")
    assert (reopen.by, reopen.reason, reopen.closed_through_after) == (
        "root", "late supplier invoice", month_end(opened))
    _insert_entry(scope, "je_reopened", month_end(opened) + timedelta(days=1))


@commits
def test_the_operator_console_closes_a_month_and_only_a_superuser_reopens(shop, operator):
    _, scope = shop
    clock.advance(scope=scope, seconds=40 * DAY)
    books = Books.objects.for_scope(scope).get()
    page = operator.post("/admin/ledger/books/", {
        "action": "close_last_month", "_selected_action": [books.pk]})
    assert page.status_code == 302
    assert Books.objects.get(pk=books.pk).closed_through is not None
    operator.post("/admin/ledger/books/", {
        "action": "reopen_last_closed_month", "_selected_action": [books.pk],
        "reason": "console"})
    assert Books.objects.get(pk=books.pk).closed_through is None
    assert [e.action for e in PeriodEvent.objects.for_scope(scope).order_by("at")] == [
        "close", "reopen"]


def _reports(api, month_first: date) -> bytes:
    last = month_end(month_first)
    return b"\n".join(api.get(path).content for path in (
        f"{LEDGER}/reports/trial-balance?asOf={last}",
        f"{LEDGER}/reports/profit-loss?from={month_first}&to={last}",
        f"{LEDGER}/reports/balance-sheet?asOf={last}",
    ))


@commits
def test_a_closed_months_reports_never_change_after_a_quarter_of_business(api, merchant):
    scope = Scope(merchant.merchant.id, "test")
    month = clock.now(scope).date().replace(day=1)
    main_catalog(api)
    customer(api)
    subscribe_paid(api, "pro")
    customer(api, "user_2")
    subscribe(api, "pro", "user_2")  # an open invoice, never paid
    advance(api, (month_end(month) - clock.now(scope).date()).days * DAY + DAY)
    _close(scope, f"{month:%Y-%m}")
    recorded = _reports(api, month)
    assert b"4001" in recorded

    # A quarter of business: renewals, an upgrade, a refund on cancel-now, a correction of a
    # closed-month entry (a reversal), and a new customer.
    first_entry = JournalEntry.objects.for_scope(scope).order_by("date", "posted_at").first()
    rules.entry_reversed(scope=scope, entry_id=first_entry.pk, date=month)
    for _ in range(3):
        advance(api, 30 * DAY)
        customer(api, f"user_{_ + 3}")
        subscribe_paid(api, "pro", f"user_{_ + 3}")
    data_of(api.post(UPDATE, {"customer": "user_1", "product": "pro",
                              "cancelAction": "cancel_immediately"}))
    later_month = clock.now(scope).date().replace(day=1)
    assert JournalEntry.objects.for_scope(scope).filter(date__gt=month_end(month)).count() >= 5
    assert Invoice.objects.for_scope(scope).count() >= 5

    assert _reports(api, month) == recorded
    assert _reports(api, later_month) != recorded

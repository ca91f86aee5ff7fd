"""Every merchant environment opens its books with the chart of accounts of DESIGN.md."""

from importlib import import_module

import pytest
from django.apps import apps as django_apps

from ledger.models import Account
from ledger.services.chart import create_chart

pytestmark = pytest.mark.django_db

CHART = {
    "1100": ("Gateway clearing", "asset", "debit", None),
    "1100-sandbox": ("Gateway clearing: sandbox", "asset", "debit", "1100"),
    "1100-stripe": ("Gateway clearing: stripe", "asset", "debit", "1100"),
    "1100-chip": ("Gateway clearing: chip", "asset", "debit", "1100"),
    "1200": ("Accounts receivable", "asset", "debit", None),
    "2100": ("Customer credit", "liability", "credit", None),
    "2300": ("Tax payable", "liability", "credit", None),
    "4001": ("Subscription revenue", "revenue", "credit", None),
    "4002": ("Usage and overage revenue", "revenue", "credit", None),
    "4003": ("One-off revenue", "revenue", "credit", None),
    "4900": ("Discounts", "revenue", "debit", None),
    "4910": ("Refunds", "revenue", "debit", None),
    "6100": ("Gateway fees", "expense", "debit", None),
    "6200": ("Bad debt", "expense", "debit", None),
}


def _chart(scope) -> dict:
    return {
        a.code: (a.name, a.type, a.normal_balance, a.parent.code if a.parent else None)
        for a in Account.objects.for_scope(scope).select_related("parent")
    }


def test_a_new_merchant_has_the_chart_in_live_and_in_test(books, live_books):
    assert _chart(books) == CHART
    assert _chart(live_books) == CHART


def test_creating_the_chart_again_changes_nothing(books):
    before = set(Account.objects.for_scope(books).values_list("pk", flat=True))
    create_chart(merchant_id=books.merchant_id, environment=books.environment)
    assert set(Account.objects.for_scope(books).values_list("pk", flat=True)) == before


def test_merchants_from_before_the_ledger_get_their_chart_from_the_migration(books):
    Account.objects.for_scope(books).filter(parent__isnull=False).delete()
    Account.objects.for_scope(books).delete()
    migration = import_module("ledger.migrations.0003_charts_of_existing_merchants")
    migration.open_charts(django_apps, None)
    assert _chart(books) == CHART

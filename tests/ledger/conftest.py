from datetime import date

import pytest

from cynco.tenancy import Scope
from ledger.services.periods import books_opened_on

# The ledger's tests post on fixed dates of 2026; their books are opened before them (brought
# in from earlier books, as a merchant moving here would).
OPENED = date(2026, 1, 1)


@pytest.fixture
def books(merchant):
    """The test-mode books of the `merchant` fixture (its scope), opened on OPENED."""
    scope = Scope(merchant.merchant.id, "test")
    books_opened_on(scope=scope, opened_on=OPENED)
    return scope


@pytest.fixture
def live_books(merchant):
    scope = Scope(merchant.merchant.id, "live")
    books_opened_on(scope=scope, opened_on=OPENED)
    return scope


@pytest.fixture(autouse=True)
def ledger_alone(settings):
    """The ledger's tests post through the rules directly, with no invoices or gateway payments
    behind them: billing's reconciliation provider and the gateway comparison (registered in
    settings) would see none, so they are left out here; tests that want a provider register
    `tests.ledger.billing_records`."""
    settings.LEDGER_RECONCILIATION_SOURCES = []
    settings.LEDGER_RECONCILIATION_CHECKS = []

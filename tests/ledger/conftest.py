import pytest

from cynco.tenancy import Scope


@pytest.fixture
def books(merchant):
    """The test-mode books of the `merchant` fixture (its scope)."""
    return Scope(merchant.merchant.id, "test")


@pytest.fixture
def live_books(merchant):
    return Scope(merchant.merchant.id, "live")


@pytest.fixture(autouse=True)
def ledger_alone(settings):
    """The ledger's tests post through the rules directly, with no invoices or gateway payments
    behind them: billing's reconciliation provider and the gateway comparison (registered in
    settings) would see none, so they are left out here; tests that want a provider register
    `tests.ledger.billing_records`."""
    settings.LEDGER_RECONCILIATION_SOURCES = []
    settings.LEDGER_RECONCILIATION_CHECKS = []

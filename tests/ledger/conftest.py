import pytest

from cynco.tenancy import Scope


@pytest.fixture
def books(merchant):
    """The test-mode books of the `merchant` fixture (its scope)."""
    return Scope(merchant.merchant.id, "test")


@pytest.fixture
def live_books(merchant):
    return Scope(merchant.merchant.id, "live")

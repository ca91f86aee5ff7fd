import pytest

from tests.factories import Api, make_merchant


@pytest.fixture
def merchant(db):
    """A merchant with its four keys."""
    return make_merchant()


@pytest.fixture
def other_merchant(db):
    return make_merchant("Other merchant")


@pytest.fixture
def api(merchant):
    """The merchant's test-mode secret key."""
    return Api(merchant.secret_test)


@pytest.fixture
def public_api(merchant):
    """The merchant's test-mode publishable key."""
    return Api(merchant.publishable_test)


@pytest.fixture
def live_api(merchant):
    return Api(merchant.secret_live)

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests import log_audit
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


@pytest.fixture(autouse=True, scope="session")
def celery_runs_tasks_inline():
    """Tasks queued with .delay() run at once in the caller, as a worker would run them."""
    from cynco.celery import app

    app.conf.task_always_eager = True
    yield


@pytest.fixture
def receiver():
    """A real local HTTP endpoint that records what webhooks send it."""
    from tests.billing.webhook_receiver import start_receiver

    endpoint, server = start_receiver()
    yield endpoint
    server.shutdown()
    server.server_close()


@pytest.fixture
def operator(db):
    """A superuser logged in to the admin."""
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-secret-123")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(autouse=True, scope="session")
def audit_logs_for_key_material():
    """Every log line of the run is searched for key material at its end (tests/log_audit.py)."""
    log_audit.start()
    yield


def pytest_sessionfinish(session, exitstatus):
    if log_audit.finish() and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    log_audit.report(terminalreporter.write_line)

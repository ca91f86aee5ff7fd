"""Fixtures of the client tests: the real server in its own process (once per run), merchants
committed where it can see them, and clients pointed at it."""

from __future__ import annotations

import pytest
from cynco_billing import AsyncCyncoBilling, CyncoBilling, RetryPolicy

from tests import log_audit
from tests.clients.flaky_front import start_front
from tests.clients.server_process import ServerProcess
from tests.factories import make_merchant

# Retries in tests wait milliseconds, not seconds (the policy itself is tested with its own).
QUICK = RetryPolicy(max_retries=2, backoff_base=0.01, backoff_max=0.05)


@pytest.fixture(scope="session")
def billing_server(django_db_setup, django_db_blocker):
    """gunicorn with 2 workers on a free port, against the test database."""
    from django.db import connection

    server = ServerProcess(connection.settings_dict)
    log_audit.also_scan(server.log_path)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture
def keys(transactional_db, billing_server):
    """A merchant and its keys, committed (the server reads with its own connections)."""
    return make_merchant()


@pytest.fixture
def billing(keys, billing_server):
    with CyncoBilling(keys.secret_test, base_url=billing_server.url, retry=QUICK) as client:
        yield client


@pytest.fixture
def async_billing(keys, billing_server):
    return AsyncCyncoBilling(keys.secret_test, base_url=billing_server.url, retry=QUICK)


@pytest.fixture
def front(billing_server):
    """A server in front of the real one that fails the requests it is told to."""
    front, server = start_front(billing_server.url)
    yield front
    server.shutdown()
    server.server_close()


@pytest.fixture
def anyio_backend():
    return "asyncio"

import os

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests import log_audit
from tests.factories import Api, make_merchant


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker):
    """The test database, created, migrated and finally dropped by the owner role; every test
    then runs as the application's own least-privilege role, as the server does
    (docs/deployment.md). Flushes between committing tests go through cynco's `flush`, which
    switches to the owner too."""
    from django.conf import settings
    from django.test.utils import setup_databases, teardown_databases

    from cynco.owner_role import as_owner

    _drop_a_test_database_the_owner_cannot(settings.DATABASES["default"]["TEST"]["NAME"])
    verbosity = request.config.option.verbose
    with django_db_blocker.unblock(), as_owner():
        db_cfg = setup_databases(verbosity=verbosity, interactive=False)
    yield
    with django_db_blocker.unblock(), as_owner():
        teardown_databases(db_cfg, verbosity=verbosity)


def _drop_a_test_database_the_owner_cannot(name: str) -> None:
    """A test database left by a run from before the roles (a superuser's) is dropped by the
    superuser, so that the owner role can create it afresh."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg
    from psycopg import sql

    from cynco.database import OWNER_ROLE, resolve_superuser_url

    url = resolve_superuser_url(prefer_local=os.environ.get("CYNCO_PREFER_LOCAL_DB") == "1")
    if url is None:
        return
    parts = urlsplit(url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        found = conn.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if found and found[0] != OWNER_ROLE:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


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

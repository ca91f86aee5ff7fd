"""Connecting as the tables' owner for the few things that need it (docs/deployment.md).

The application's connection is its least-privilege role. `migrate` (and, in a test run, the
creation, flush and removal of the test database) switch the connection of an alias to the
owner (settings.DATABASE_OWNER) for their duration, then back. Nothing else does: the
application at run time needs no owner rights.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.conf import settings
from django.db import connections
from psycopg import sql


@contextmanager
def as_owner(alias: str = "default"):
    """Run the block with `alias` connected as the owner role (a no-op when there is none)."""
    owner = getattr(settings, "DATABASE_OWNER", None)
    connection = connections[alias]
    if not owner or owner.get("USER") == connection.settings_dict.get("USER"):
        yield
        return
    if connection.in_atomic_block:
        raise RuntimeError("cannot switch to the owner role inside a transaction")
    saved = {key: connection.settings_dict.get(key) for key in owner}
    connection.close()
    connection.settings_dict.update(owner)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def grant_to_application(alias: str = "default") -> None:
    """Give the application role its rights on every table and sequence (run as the owner,
    after migrations): rows only, never the schema. Idempotent."""
    app = _application_role()
    if app is None:
        return
    role = sql.Identifier(app)
    with connections[alias].cursor() as cursor:
        for statement in (
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}",
            "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {}",
        ):
            cursor.execute(sql.SQL(statement).format(role).as_string(cursor.connection))


def _application_role() -> str | None:
    owner = getattr(settings, "DATABASE_OWNER", None)
    if not owner:
        return None
    # Not the connection's USER: inside `as_owner` that is the owner's.
    return getattr(settings, "DATABASE_APPLICATION_ROLE", None)

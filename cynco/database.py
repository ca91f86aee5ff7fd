"""Where the PostgreSQL database is: `DATABASE_URL`, a local server, or an embedded one.

PostgreSQL is the only database this project runs on (no SQLite code path). The order is:

1. `DATABASE_URL` when it is set;
2. for tests only (`prefer_local=True`), the server on 127.0.0.1:5432 when one answers;
3. an embedded PostgreSQL from the `pgserver` wheel, its data under `var/pgdata`.

The embedded server is shared by every process of the project (pgserver counts the processes that
use it) and stops when the last one exits. This module imports no Django so that settings,
the `make` targets and `scripts/run.py` can all use it.

Two roles (docs/deployment.md): the application connects as `cynco_app`, which may read and write
rows and nothing else (not a superuser, not the tables' owner: no TRUNCATE, no ALTER, no trigger
changes, no `session_replication_role`); migrations run as `cynco_owner`, which owns the tables.
On a server of our own (the local one for tests, the embedded one) the superuser `postgres`
creates both roles; with `DATABASE_URL` set, the URLs come from the environment
(`MIGRATION_DATABASE_URL` for the owner, else `DATABASE_URL` itself).
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import sys
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CYNCO_VAR_DIR", BASE_DIR / "var"))
LOCAL_SERVER = ("127.0.0.1", 5432)
DATABASE_NAME = "cynco"
SUPERUSER = "postgres"
OWNER_ROLE = "cynco_owner"
APP_ROLE = "cynco_app"

_embedded = None  # keeps this process's handle on the embedded server alive


def local_server_answers(address: tuple[str, int] = LOCAL_SERVER, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on the local PostgreSQL port."""
    try:
        with socket.create_connection(address, timeout=timeout):
            return True
    except OSError:
        return False


def embedded_url(database: str = DATABASE_NAME) -> str:
    """Start (or join) the embedded server under var/pgdata; the superuser's URL for `database`,
    which exists and is handed to the owner role (prepare_roles)."""
    global _embedded
    runtime_dir = VAR_DIR / "run"
    runtime_dir.mkdir(parents=True, exist_ok=True)
    runtime_dir.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime_dir))  # pgserver keeps pid files there
    logging.getLogger("pgserver").setLevel(logging.WARNING)  # it narrates every start and stop
    import pgserver  # imported late: only needed when no other server is configured

    data_dir = VAR_DIR / "pgdata"
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    url = f"postgres://{SUPERUSER}@/{database}?host={quote(str(data_dir), safe='')}"
    if _embedded is None:
        _embedded = pgserver.get_server(data_dir, cleanup_mode="stop")
        prepare_roles(url, hand_over=True)
    return url


@functools.lru_cache(maxsize=None)
def _server_url(prefer_local: bool) -> str:
    """The superuser's URL of the server of our own: the local one (tests), else embedded."""
    if prefer_local and local_server_answers():
        url = f"postgres://{SUPERUSER}@{LOCAL_SERVER[0]}:{LOCAL_SERVER[1]}/{DATABASE_NAME}"
        prepare_roles(url, hand_over=False)  # tests use a test database of their own
        return url
    return embedded_url()


def as_role(url: str, role: str) -> str:
    """`url` with `role` as its user (servers of our own trust local connections)."""
    parts = urlsplit(url)
    location = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{role}@{location}"))


def resolve_database_url(*, prefer_local: bool = False) -> str:
    """The application's URL (its least-privilege role), following the module docstring."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return as_role(_server_url(prefer_local), APP_ROLE)


def resolve_migration_url(*, prefer_local: bool = False) -> str:
    """The URL migrations run with (the tables' owner)."""
    url = os.environ.get("MIGRATION_DATABASE_URL")
    if url:
        return url
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    return as_role(_server_url(prefer_local), OWNER_ROLE)


def resolve_superuser_url(*, prefer_local: bool = False) -> str | None:
    """The superuser's URL of a server of our own; None for a server given by DATABASE_URL."""
    if os.environ.get("DATABASE_URL"):
        return None
    return _server_url(prefer_local)


def prepare_roles(superuser_url: str, *, hand_over: bool) -> None:
    """Create the owner and application roles if missing (idempotent, safe concurrently).

    With `hand_over`, the database of `superuser_url` is created if missing and given to the
    owner (with everything in its public schema, e.g. tables a superuser made before the roles
    existed), and the application role gets the rights of docs/deployment.md on it.
    """
    import psycopg
    from psycopg import errors, sql

    parts = urlsplit(superuser_url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        for role, options in ((OWNER_ROLE, "LOGIN CREATEDB"), (APP_ROLE, "LOGIN")):
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
                continue
            try:
                conn.execute(sql.SQL("CREATE ROLE {} " + options).format(sql.Identifier(role)))
            except (errors.DuplicateObject, errors.UniqueViolation):
                pass  # another process created it first
        if not hand_over:
            return
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(OWNER_ROLE)))
        conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
            sql.Identifier(name), sql.Identifier(OWNER_ROLE)))
    with psycopg.connect(superuser_url, autocommit=True) as conn:
        conn.execute(HAND_OVER)
        conn.execute(GRANTS)


# Run as a superuser in the project's database: everything in `public` goes to the owner.
HAND_OVER = f"""
DO $$
DECLARE item record;
BEGIN
    ALTER SCHEMA public OWNER TO {OWNER_ROLE};
    FOR item IN
        SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
           AND pg_get_userbyid(c.relowner) <> '{OWNER_ROLE}'
           AND NOT (c.relkind = 'S' AND EXISTS (
               SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
    LOOP
        EXECUTE format('ALTER %s %I OWNER TO {OWNER_ROLE}',
            CASE item.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                 WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, item.relname);
    END LOOP;
    FOR item IN
        SELECT p.oid::regprocedure AS signature FROM pg_proc p
          JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> '{OWNER_ROLE}'
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO {OWNER_ROLE}', item.signature);
    END LOOP;
END $$;
"""

# The application role's rights (docs/deployment.md shows the same for a production server).
GRANTS = f"""
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO {APP_ROLE};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE};
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE};
ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER_ROLE} IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE};
ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER_ROLE} IN SCHEMA public
    GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {APP_ROLE};
"""


def ensure_database_exists(url: str) -> None:
    """Create the database named in `url` on its server if it is missing (local servers only)."""
    import psycopg
    from psycopg import sql
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not found:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


if __name__ == "__main__":
    # `python -m cynco.database [--prefer-local] [--migration]` prints the URL the project would
    # use (the owner's with --migration).
    resolve = resolve_migration_url if "--migration" in sys.argv else resolve_database_url
    print(resolve(prefer_local="--prefer-local" in sys.argv))

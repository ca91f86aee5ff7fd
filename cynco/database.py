"""Where the PostgreSQL database is: `DATABASE_URL`, a local server, or an embedded one.

PostgreSQL is the only database this project runs on (no SQLite code path). The order is:

1. `DATABASE_URL` when it is set;
2. for tests only (`prefer_local=True`), the server on 127.0.0.1:5432 when one answers;
3. an embedded PostgreSQL from the `pgserver` wheel, its data under `var/pgdata`.

The embedded server is shared by every process of the project (pgserver counts the processes that
use it) and stops when the last one exits. This module imports no Django so that settings,
the `make` targets and `scripts/run.py` can all use it.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CYNCO_VAR_DIR", BASE_DIR / "var"))
LOCAL_SERVER = ("127.0.0.1", 5432)
DATABASE_NAME = "cynco"

_embedded = None  # keeps this process's handle on the embedded server alive


def local_server_answers(address: tuple[str, int] = LOCAL_SERVER, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on the local PostgreSQL port."""
    try:
        with socket.create_connection(address, timeout=timeout):
            return True
    except OSError:
        return False


def embedded_url(database: str = DATABASE_NAME) -> str:
    """Start (or join) the embedded server under var/pgdata and return a URL for `database`."""
    global _embedded
    runtime_dir = VAR_DIR / "run"
    runtime_dir.mkdir(parents=True, exist_ok=True)
    runtime_dir.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime_dir))  # pgserver keeps pid files there
    logging.getLogger("pgserver").setLevel(logging.WARNING)  # it narrates every start and stop
    import pgserver  # imported late: only needed when no other server is configured

    data_dir = VAR_DIR / "pgdata"
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    if _embedded is None:
        _embedded = pgserver.get_server(data_dir, cleanup_mode="stop")
        exists = _embedded.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
        if "(0 rows)" in exists:
            _embedded.psql(f'CREATE DATABASE "{database}";')
    return f"postgres://postgres@/{database}?host={quote(str(data_dir), safe='')}"


def resolve_database_url(*, prefer_local: bool = False) -> str:
    """The URL to use, following the order in the module docstring."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    if prefer_local and local_server_answers():
        return f"postgres://postgres@{LOCAL_SERVER[0]}:{LOCAL_SERVER[1]}/{DATABASE_NAME}"
    return embedded_url()


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
    # `python -m cynco.database [--prefer-local]` prints the URL the project would use.
    print(resolve_database_url(prefer_local="--prefer-local" in sys.argv))

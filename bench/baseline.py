"""The database's own speed, measured in the same run as a benchmark, as its yardstick.

This machine is shared and noisy, so absolute figures mean little; benchmarks compare what they
measure with what PostgreSQL itself does in the same minute: pgbench running single-row UPDATEs
on one hot row (the ceiling for one customer's serialized writes) and on rows spread over many
keys (the ceiling for writes across customers).

    python bench/baseline.py [--seconds 10] [--clients 8]

prints both rates. Benchmarks import `pgbench_update_rate` and `database_conninfo`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from cynco.database import ensure_database_exists, resolve_superuser_url  # noqa: E402

TABLE = "bench_baseline"
HOT_SCRIPT = f"UPDATE {TABLE} SET n = n + 1 WHERE id = 1;\n"
SPREAD_SCRIPT = f"\\set id random(1, 1000)\nUPDATE {TABLE} SET n = n + 1 WHERE id = :id;\n"


def database_conninfo() -> str:
    """The URL benchmarks use: the project's database (DATABASE_URL, local, or embedded), as
    the server's superuser on a server of our own (benchmarks create their own databases and
    tables, which the application's role may not)."""
    url = os.environ.get("DATABASE_URL") or resolve_superuser_url(prefer_local=True)
    if not os.environ.get("DATABASE_URL") and "@127.0.0.1:" in url:
        ensure_database_exists(url)  # the local server may not have the project's database yet
    return url.replace("postgres://", "postgresql://", 1)


def _prepare(conninfo: str) -> None:
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (id int PRIMARY KEY, n bigint)")
        conn.execute(
            f"INSERT INTO {TABLE} SELECT g, 0 FROM generate_series(1, 1000) g "
            "ON CONFLICT (id) DO NOTHING"
        )


def pgbench_update_rate(
    conninfo: str, *, hot: bool, seconds: int = 10, clients: int = 8
) -> float:
    """Transactions per second of pgbench single-row UPDATEs (one hot row, or 1,000 rows)."""
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        raise RuntimeError("pgbench not found: apt-get install postgresql-client")
    _prepare(conninfo)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(HOT_SCRIPT if hot else SPREAD_SCRIPT)
    try:
        result = subprocess.run(
            [pgbench, "-n", "-f", script.name, "-c", str(clients), "-j", str(min(clients, 4)),
             "-T", str(seconds), conninfo],
            capture_output=True, text=True, check=True, env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
        )
    finally:
        os.unlink(script.name)
    match = re.search(r"tps = ([0-9.]+)", result.stdout)
    if not match:
        raise RuntimeError(f"could not read pgbench's rate:\n{result.stdout}\n{result.stderr}")
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    conninfo = database_conninfo()
    print(f"pgbench baseline, {args.clients} clients, {args.seconds}s each", flush=True)
    for hot in (True, False):
        label = "one hot row" if hot else "1,000 rows"
        print(f"  measuring single-row UPDATE on {label} …", flush=True)
        rate = pgbench_update_rate(conninfo, hot=hot, seconds=args.seconds, clients=args.clients)
        print(f"  {label:>12}: {rate:10.0f} updates/s", flush=True)


if __name__ == "__main__":
    main()

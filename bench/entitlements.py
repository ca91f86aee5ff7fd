"""Entitlements against a real server: check latency, track throughput, history independence.

    DATABASE_URL=postgres://…/cynco_bench python bench/entitlements.py [--seconds 8]

Migrates the database, seeds a fresh merchant (live keys: the wall clock, as in production)
with a metered plan given to 1,000 customers by default, starts gunicorn on a free port of
127.0.0.1, then prints, as it goes:

- check p50/p99 over HTTP (one keep-alive client, sequential calls);
- track throughput on one hot customer, and across 1,000 customers (several clients);
- check p50 for a customer with 1 prior usage event and one with 1,000,000 (inserted with
  INSERT … SELECT generate_series, not through the API; then VACUUM ANALYZE of the tables
  check and track read, as autovacuum would do);
- pgbench's single-row UPDATE rate on the same database (bench/baseline.py), as the yardstick.

Targets (issue 5): check p50 <= 3 ms, p99 <= 10 ms; hot-customer track >= 0.5 x pgbench's
hot-row rate; >= 1,000 tracks/s across customers; 1M-history check within 1.2 x of empty.
Bounded: a few minutes in all. It only ever talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))

from baseline import database_conninfo, pgbench_update_rate  # noqa: E402

CUSTOMERS = 1000
HISTORY = 1_000_000
FEATURE = "calls"
VACUUMED = ("cynco_apikey", "cynco_environmentclock", "billing_customer", "billing_feature",
            "billing_balance", "billing_usageevent")


def say(message: str) -> None:
    print(message, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed() -> tuple[str, str]:
    """A merchant whose default plan grants `calls`, with 1,000 customers; its live secret key
    and merchant id."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cynco.settings")
    django.setup()
    from billing.api.product_input import ProductInput
    from billing.services.catalog import product_define, product_definition
    from billing.services.customers import customer_get_or_create
    from cynco.merchants import merchant_create
    from cynco.tenancy import Scope

    merchant, keys = merchant_create(name=f"Bench {int(time.time())}")
    scope = Scope(merchant.id, "live")
    body = {"name": "Meter", "slug": "meter", "isDefault": True,
            "prices": [{"type": "recurring", "billingInterval": "month", "amount": 0}],
            "features": [{"slug": FEATURE, "name": "Calls", "type": "metered",
                          "allowanceType": "fixed", "allowance": 10**9,
                          "overageAllowed": True}]}
    data = ProductInput(data=body)
    data.is_valid(raise_exception=True)
    product_define(scope=scope, slug="meter", definition=product_definition(data.validated_data))
    started = time.perf_counter()
    for index in range(CUSTOMERS):
        customer_get_or_create(scope=scope, external_id=f"c{index}")
        if (index + 1) % 250 == 0:
            say(f"  seeded {index + 1} customers ({time.perf_counter() - started:.1f}s)")
    for name in ("empty", "heavy"):
        customer_get_or_create(scope=scope, external_id=name)
    return keys["secret_live"], merchant.id


def insert_history(conninfo: str, merchant_id: str) -> None:
    """1,000,000 usage events for customer `heavy` and 1 for `empty`, in bulk SQL."""
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        ids = {}
        for name in ("empty", "heavy"):
            ids[name] = conn.execute(
                "SELECT id FROM billing_customer WHERE merchant_id = %s AND environment = 'live'"
                " AND external_id = %s", [merchant_id, name]).fetchone()[0]
        feature = conn.execute(
            "SELECT id FROM billing_feature WHERE merchant_id = %s AND environment = 'live' "
            "AND slug = %s", [merchant_id, FEATURE]).fetchone()[0]
        for name, count in (("empty", 1), ("heavy", HISTORY)):
            conn.execute(
                """INSERT INTO billing_usageevent (id, merchant_id, environment, customer_id,
                     feature_id, entity_key, amount, source, created_at)
                   SELECT 'pue_' || %s || g, %s, 'live', %s, %s, '', 1, 'track',
                          now() - (g || ' seconds')::interval
                   FROM generate_series(1, %s) g""",
                [f"{merchant_id[-12:]}{name}", merchant_id, ids[name], feature, count])
            conn.execute(
                "UPDATE billing_balance SET used = used + %s WHERE customer_id = %s",
                [count, ids[name]])
    # As autovacuum would have by then (it may be off on a development server: it is on this
    # machine's shared one): fresh statistics and no dead rows left by earlier runs.
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for table in VACUUMED:
            conn.execute(f"VACUUM ANALYZE {table}")


class Client:
    """One keep-alive HTTP connection to the server."""

    def __init__(self, port: int, key: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def post(self, path: str, body: dict) -> dict:
        self.conn.request("POST", "/api/v1/pay/" + path, json.dumps(body), self.headers)
        response = self.conn.getresponse()
        payload = response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {payload[:300]!r}")
        return json.loads(payload)


def latencies(client: Client, customer: str, count: int) -> list[float]:
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        client.post("check", {"customer": customer, "feature": FEATURE})
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def describe(cpu: dict) -> str:
    return ", ".join(f"{name} {value:.2f}" for name, value in cpu.items()) + (
        f" (total {sum(cpu.values()):.2f}; the machine has {os.cpu_count()} CPUs)")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def throughput(port: int, key: str, customers: list[str], seconds: float,
               clients: int, path: str = "track") -> float:
    """Tracks (or calls of `path`) per second that `clients` keep-alive clients achieve for
    `seconds`."""
    done = [0] * clients
    stop = time.perf_counter() + seconds

    def run(slot: int) -> None:
        client = Client(port, key)
        rng = random.Random(slot)
        while time.perf_counter() < stop:
            client.post(path, {"customer": rng.choice(customers), "feature": FEATURE})
            done[slot] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(slot,)) for slot in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.perf_counter() - started)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes `pids` used so far (Linux /proc; 0 elsewhere)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def server_pids(server: subprocess.Popen) -> list[int]:
    """gunicorn's master and its workers."""
    pids = [server.pid]
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        try:
            with open(f"/proc/{entry}/stat") as stat:
                if int(stat.read().rsplit(")", 1)[1].split()[1]) == server.pid:
                    pids.append(int(entry))
        except (OSError, ValueError):
            continue
    return pids


def backend_pids(conninfo: str) -> list[int]:
    """The PostgreSQL backends serving this database (the server's connections)."""
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        return [pid for (pid,) in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()")]


def measured_throughput(port, key, customers, seconds, clients, server, conninfo,
                        path="track"):
    """`throughput`, and the CPU milliseconds one call cost the web server, the database
    backends and the benchmark's own client threads."""
    throughput(port, key, customers, 1, clients, path)  # every worker thread connected
    web, database = server_pids(server), backend_pids(conninfo)
    before = cpu_seconds(web), cpu_seconds(database), resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    rate = throughput(port, key, customers, seconds, clients, path)
    tracks = rate * (time.perf_counter() - started)
    after = resource.getrusage(resource.RUSAGE_SELF)
    client = (after.ru_utime + after.ru_stime) - (before[2].ru_utime + before[2].ru_stime)
    cpu = {"web": cpu_seconds(web) - before[0], "database": cpu_seconds(database) - before[1],
           "client": client}
    return rate, {name: value * 1000 / tracks for name, value in cpu.items()}


def start_server(port: int, args, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "cynco.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--workers", str(args.workers), "--threads",
         str(args.threads), "--log-level", "warning"],
        cwd=BASE_DIR, env={**env, "LOG_LEVEL": "WARNING"},
    )


def measure_floor(args, env: dict, conninfo: str) -> tuple[float, dict]:
    """Requests per second and CPU ms per request of bench/floor_urls.py's minimal view on the
    same server: what a request costs before any work."""
    port = free_port()
    server = start_server(port, args, {**env, "DJANGO_SETTINGS_MODULE": "floor_settings",
                                       "PYTHONPATH": f"{BASE_DIR / 'bench'}:{BASE_DIR}"})
    try:
        wait_until_up(port)
        throughput(port, "", ["c0"], 1, args.clients, "floor")  # warm the workers
        return measured_throughput(port, "", ["c0"], args.seconds, args.clients, server,
                                   conninfo, "floor")
    finally:
        server.terminate()
        server.wait(timeout=30)


def wait_until_up(port: int, deadline: float = 30) -> None:
    until = time.time() + deadline
    while time.time() < until:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    conninfo = database_conninfo()
    env = {**os.environ, "DATABASE_URL": conninfo.replace("postgresql://", "postgres://", 1)}
    os.environ["DATABASE_URL"] = env["DATABASE_URL"]
    say("migrating …")
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
                   cwd=BASE_DIR, env=env, check=True)
    say(f"seeding a merchant with {CUSTOMERS} customers on a metered default plan …")
    key, merchant_id = seed()
    say(f"inserting {HISTORY:,} prior usage events for one customer (SQL) …")
    insert_history(conninfo, merchant_id)
    port = free_port()
    say(f"starting gunicorn on 127.0.0.1:{port} ({args.workers} workers x "
        f"{args.threads} threads) …")
    server = start_server(port, args, env)
    results = {}
    try:
        wait_until_up(port)
        client = Client(port, key)
        latencies(client, "c0", 200)  # warm every worker's connection and caches
        say("measuring check latency over HTTP (2,000 sequential calls) …")
        timings = latencies(client, "c0", 2000)
        results["check p50 ms"] = statistics.median(timings)
        results["check p99 ms"] = percentile(timings, 0.99)
        say(f"  p50 {results['check p50 ms']:.2f} ms, p99 {results['check p99 ms']:.2f} ms")
        say(f"measuring check with 1 vs {HISTORY:,} prior events (1,000 calls each) …")
        empty, heavy = [], []
        for _ in range(5):
            empty += latencies(client, "empty", 200)
            heavy += latencies(client, "heavy", 200)
        results["check p50 ms, 1 event"] = statistics.median(empty)
        results["check p50 ms, 1M events"] = statistics.median(heavy)
        say(f"  1 event: {results['check p50 ms, 1 event']:.2f} ms, 1M events: "
            f"{results['check p50 ms, 1M events']:.2f} ms")
        say(f"measuring track on one hot customer ({args.clients} clients, "
            f"{args.seconds:.0f}s) …")
        rate, cpu = measured_throughput(port, key, ["c1"], args.seconds, args.clients, server,
                                        conninfo)
        results["track/s hot customer"], cpu_hot = rate, cpu
        say(f"  {rate:.0f} tracks/s; CPU ms per track: " + describe(cpu))
        say(f"measuring track across {CUSTOMERS} customers ({args.clients} clients, "
            f"{args.seconds:.0f}s) …")
        rate, cpu = measured_throughput(port, key, [f"c{i}" for i in range(CUSTOMERS)],
                                        args.seconds, args.clients, server, conninfo)
        results["track/s across customers"], cpu_across = rate, cpu
        load = os.getloadavg()[0]
        say(f"  {rate:.0f} tracks/s; CPU ms per track: " + describe(cpu))
    finally:
        server.terminate()
        server.wait(timeout=30)
    say(f"measuring the floor: a minimal Django view on the same server ({args.clients} "
        f"clients, {args.seconds:.0f}s) …")
    results["floor/s"], cpu_floor = measure_floor(args, env, conninfo)
    say(f"  {results['floor/s']:.0f} requests/s; CPU ms per request: " + describe(cpu_floor))
    say("measuring the pgbench baseline (single-row UPDATE, 8 clients, 10s each) …")
    results["pgbench hot row/s"] = pgbench_update_rate(conninfo, hot=True)
    say(f"  one hot row: {results['pgbench hot row/s']:.0f} updates/s")
    results["pgbench 1,000 rows/s"] = pgbench_update_rate(conninfo, hot=False)
    say(f"  1,000 rows: {results['pgbench 1,000 rows/s']:.0f} updates/s")

    hot_ratio = results["track/s hot customer"] / results["pgbench hot row/s"]
    history_ratio = results["check p50 ms, 1M events"] / results["check p50 ms, 1 event"]
    say("\nresults (target in brackets)")
    rows = [
        ("check p50", f"{results['check p50 ms']:.2f} ms", "<= 3 ms",
         results["check p50 ms"] <= 3),
        ("check p99", f"{results['check p99 ms']:.2f} ms", "<= 10 ms",
         results["check p99 ms"] <= 10),
        ("track, hot customer", f"{results['track/s hot customer']:.0f}/s "
         f"= {hot_ratio:.2f} x pgbench hot row ({results['pgbench hot row/s']:.0f}/s)",
         ">= 0.5 x", hot_ratio >= 0.5),
        ("track, 1,000 customers", f"{results['track/s across customers']:.0f}/s "
         f"(pgbench 1,000 rows: {results['pgbench 1,000 rows/s']:.0f}/s)", ">= 1,000/s",
         results["track/s across customers"] >= 1000),
        ("check, 1M vs 1 event", f"{history_ratio:.2f} x", "<= 1.2 x", history_ratio <= 1.2),
    ]
    for name, value, target, met in rows:
        say(f"  {name:<24} {value:<60} [{target}] {'met' if met else 'NOT met'}")
    say(f"  CPU ms per track, hot: {describe(cpu_hot)}")
    say(f"  CPU ms per track, 1,000 customers: {describe(cpu_across)}")
    say(f"  floor (minimal Django view, no database): {results['floor/s']:.0f} requests/s, "
        f"CPU ms per request: {describe(cpu_floor)}")
    say(f"  load average (1 min) after the track runs: {load:.1f}")


if __name__ == "__main__":
    main()

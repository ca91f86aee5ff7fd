"""Batch ingestion against a real server: POST /track/batch events per second, exact.

    DATABASE_URL=postgres://…/cynco_bench python bench/ingest.py [--seconds 8] [--clients 4]

Migrates the database, seeds a fresh merchant with 1,000 customers on a metered default plan
(bench/entitlements.py's `seed`), starts gunicorn on a free port of 127.0.0.1 (`make run`'s 2
workers x 4 threads), then measures, as it goes, events per second with `--clients` keep-alive
clients sending batches of 100 and of 1,000 events:

- across 1,000 customers (each event a random customer);
- on one hot customer (every event the same customer);

with the CPU milliseconds per 1,000 events the web server, the database backends and the
benchmark's own client spent. After each run it checks in the database that every accepted
event was recorded exactly once (the balances grew by exactly the accepted events, and as many
usage events were appended). Then pgbench's single-row UPDATE rates on the same database
(bench/baseline.py), the yardstick of the same run.

Targets (issue 21): >= 20,000 events/s across customers and >= 10,000/s on one hot customer.
Bodies are encoded once before the clock starts, so the client measures the server, not json.
It only ever talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))

from baseline import database_conninfo, pgbench_update_rate  # noqa: E402
from entitlements import (  # noqa: E402
    CUSTOMERS, FEATURE, backend_pids, cpu_seconds, describe, free_port, say, seed,
    server_pids, start_server, wait_until_up,
)

BODIES = 8  # distinct pre-encoded bodies per run, sent in turn


def bodies(customers: list[str], size: int, seed_: int) -> list[bytes]:
    rng = random.Random(seed_)
    return [json.dumps({"events": [{"customer": rng.choice(customers), "feature": FEATURE}
                                   for _ in range(size)]}).encode() for _ in range(BODIES)]


def send(port: int, key: str, payloads: list[bytes], seconds: float) -> dict:
    """Batches sent for `seconds` by one keep-alive client: events answered per status."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    counts: dict[str, int] = {}
    stop = time.perf_counter() + seconds
    turn = 0
    while time.perf_counter() < stop:
        conn.request("POST", "/api/v1/pay/track/batch", payloads[turn % len(payloads)], headers)
        response = conn.getresponse()
        payload = response.read()
        turn += 1
        if response.status != 200:
            counts[f"http {response.status}"] = counts.get(f"http {response.status}", 0) + 1
            continue
        for result in json.loads(payload)["data"]["results"]:
            counts[result["status"]] = counts.get(result["status"], 0) + 1
    conn.close()
    return counts


def recorded(conninfo: str, merchant_id: str) -> tuple[float, int]:
    """The merchant's total usage of the feature and its number of usage events."""
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        used = conn.execute(
            "SELECT coalesce(sum(b.used), 0) FROM billing_balance b JOIN billing_feature f "
            "ON f.id = b.feature_id WHERE b.merchant_id = %s AND f.slug = %s",
            [merchant_id, FEATURE]).fetchone()[0]
        events = conn.execute("SELECT count(*) FROM billing_usageevent WHERE merchant_id = %s",
                              [merchant_id]).fetchone()[0]
    return float(used), events


def run(label: str, port: int, key: str, customers: list[str], size: int, args, server,
        conninfo: str, merchant_id: str) -> dict:
    say(f"measuring {label}, batches of {size} ({args.clients} clients, {args.seconds:.0f}s) …")
    payloads = [bodies(customers, size, slot * 100 + size) for slot in range(args.clients)]
    # Warm every worker thread's connection and the function's plan.
    warm = [threading.Thread(target=send, args=(port, key, payloads[slot], 1))
            for slot in range(args.clients)]
    for thread in warm:
        thread.start()
    for thread in warm:
        thread.join()
    used_before, events_before = recorded(conninfo, merchant_id)
    web, database = server_pids(server), backend_pids(conninfo)
    before = cpu_seconds(web), cpu_seconds(database), resource.getrusage(resource.RUSAGE_SELF)
    results: list[dict] = [{} for _ in range(args.clients)]

    def client(slot: int) -> None:
        results[slot] = send(port, key, payloads[slot], args.seconds)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(slot,)) for slot in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    counts: dict[str, int] = {}
    for result in results:
        for status, count in result.items():
            counts[status] = counts.get(status, 0) + count
    answered = sum(count for status, count in counts.items() if not status.startswith("http"))
    accepted = counts.get("accepted", 0)
    cpu = {"web": cpu_seconds(web) - before[0], "database": cpu_seconds(database) - before[1],
           "client": (after.ru_utime + after.ru_stime)
           - (before[2].ru_utime + before[2].ru_stime)}
    per_thousand = {name: value * 1000 * 1000 / max(answered, 1) for name, value in cpu.items()}
    used_after, events_after = recorded(conninfo, merchant_id)
    exact = (used_after - used_before == accepted and events_after - events_before == accepted
             and accepted == answered)
    rate = answered / elapsed
    say(f"  {rate:,.0f} events/s ({answered:,} events in {elapsed:.1f}s; {counts}); "
        f"CPU ms per 1,000 events: {describe(per_thousand)}")
    say(f"  in the database: usage +{used_after - used_before:,.0f}, events "
        f"+{events_after - events_before:,} for {accepted:,} accepted: "
        f"{'exact' if exact else 'NOT EXACT'}")
    return {"rate": rate, "exact": exact, "cpu": per_thousand}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--sizes", default="100,1000")
    args = parser.parse_args()
    conninfo = database_conninfo()
    env = {**os.environ, "DATABASE_URL": conninfo.replace("postgresql://", "postgres://", 1)}
    os.environ["DATABASE_URL"] = env["DATABASE_URL"]
    say("migrating …")
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
                   cwd=BASE_DIR, env=env, check=True)
    say(f"seeding a merchant with {CUSTOMERS} customers on a metered default plan …")
    key, merchant_id = seed()
    port = free_port()
    say(f"starting gunicorn on 127.0.0.1:{port} ({args.workers} workers x "
        f"{args.threads} threads) …")
    server = start_server(port, args, env)
    figures = {}
    everyone = [f"c{index}" for index in range(CUSTOMERS)]
    try:
        wait_until_up(port)
        for size in (int(size) for size in args.sizes.split(",")):
            figures[("across", size)] = run(f"{CUSTOMERS} customers", port, key, everyone,
                                            size, args, server, conninfo, merchant_id)
            figures[("hot", size)] = run("one hot customer", port, key, ["c1"], size, args,
                                         server, conninfo, merchant_id)
        load = os.getloadavg()[0]
    finally:
        server.terminate()
        server.wait(timeout=30)
    say("measuring the pgbench baseline (single-row UPDATE, 8 clients, 10s each) …")
    hot_row = pgbench_update_rate(conninfo, hot=True)
    say(f"  one hot row: {hot_row:,.0f} updates/s")
    spread = pgbench_update_rate(conninfo, hot=False)
    say(f"  1,000 rows: {spread:,.0f} updates/s")

    say("\nresults (target in brackets)")
    for (where, size), figure in figures.items():
        target = 20_000 if where == "across" else 10_000
        baseline = spread if where == "across" else hot_row
        name = f"{'1,000 customers' if where == 'across' else 'one hot customer'}, x{size}"
        say(f"  {name:<26} {figure['rate']:>9,.0f} events/s = "
            f"{figure['rate'] / baseline:5.2f} x pgbench {'1,000 rows' if where == 'across' else 'hot row'}"
            f" ({baseline:,.0f}/s)  [>= {target:,}/s] {'met' if figure['rate'] >= target else 'NOT met'}"
            f"; {'exact' if figure['exact'] else 'NOT EXACT'}")
    say(f"  load average (1 min) after the runs: {load:.1f}; the machine has "
        f"{os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()

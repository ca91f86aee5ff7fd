"""A mixed load against a real server, then a check in the database that no track was lost or
counted twice.

    DATABASE_URL=postgres://…/cynco_load .venv/bin/python bench/load.py [--seconds 600]
        [--clients 16] [--customers 300] [--hot 3] [--rate-limits off]

Migrates the database, seeds a fresh merchant (test keys: they have the same rate limits as
live ones) with the demo-like catalog (free by default, pro, enterprise; metered `messages`
with overage) and `--customers` customers, a fifth of them on Pro with a saved card. Starts
gunicorn on a free port (`make run`'s 2 workers x 4 threads), then `--clients` keep-alive
clients call, for `--seconds` (at most 600), a mix of:

    check 30%, track 30% (each with its own idempotencyKey; 1 in 20 re-sends an earlier one),
    customers (GET) 10%, customers (PUT) 5%, invoices 7%, subscribe 6% (a new plan, or an
    upgrade that charges a saved card), subscriptions/update 2%, cancel 4%, preview 6%

with a third of the calls on `--hot` hot customers. Closed loop: each client sends its next
call when the last one answered, so the rate is the highest this box holds with that many
clients. Prints throughput, p50/p99 per call, statuses per call and errors (5xx and broken
connections: must be 0; 429s are counted apart). Then, in the database: every track answered
`recorded: true, duplicate: false` has exactly one usage event, every re-sent one none more,
and nothing else was recorded under the run's keys.

The yardstick measured in the same run: bench/floor_urls.py's minimal view (what a request
costs before any work) with the same clients and server. Exit status 1 when an error happened
or the database disagrees.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))

from baseline import database_conninfo  # noqa: E402
from entitlements import (  # noqa: E402
    free_port,
    measure_floor,
    percentile,
    say,
    start_server,
    wait_until_up,
)

MAX_SECONDS = 600
FEATURE = "messages"
CARD = "4242424242424242"
MIX = [("check", 30), ("track", 30), ("customer_get", 10), ("customer_put", 5),
       ("invoices", 7), ("subscribe", 6), ("update", 2), ("cancel", 4), ("preview", 6)]
PLANS = ("free", "pro", "enterprise")


def catalog() -> list[dict]:
    def plan(slug, amount, allowance, default=False, order=0):
        return {"name": slug.title(), "slug": slug, "isDefault": default, "groupSlug": "main",
                "sortOrder": order,
                "prices": [{"type": "recurring", "billingInterval": "month", "amount": amount}],
                "features": [{"slug": FEATURE, "name": "Messages", "type": "metered",
                              "allowanceType": "fixed", "allowance": allowance,
                              "overageAllowed": True, "overagePrice": 1}]}
    return [plan("free", 0, 1000, True, 0), plan("pro", 2000, 100_000, False, 1),
            plan("enterprise", 5000, 10_000_000, False, 2)]


class Client:
    """One keep-alive connection; `call` answers (status, body or None, seconds)."""

    def __init__(self, port: int, key: str):
        self.port, self.key = port, key
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        sent = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json",
                **(headers or {})}
        started = time.perf_counter()
        try:
            self.conn.request(method, "/api/v1/pay/" + path,
                              json.dumps(body) if body is not None else None, sent)
            response = self.conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            return 0, None, time.perf_counter() - started
        seconds = time.perf_counter() - started
        try:
            return response.status, json.loads(payload), seconds
        except ValueError:
            return response.status, None, seconds


def seed(port: int, key: str, customers: int) -> tuple[list[str], list[str]]:
    """The catalog, `customers` customers, a fifth of them on Pro with a saved card (through
    the sandbox checkout). Returns (all customer ids, those with a card)."""
    client = Client(port, key)
    for body in catalog():
        status, answer, _ = client.call("POST", "products", body)
        assert status in (200, 201), answer
    ids = [f"u{index}" for index in range(customers)]
    carded = []
    for index, external_id in enumerate(ids):
        status, answer, _ = client.call("POST", "customers", {"customerId": external_id})
        assert status in (200, 201), answer
        if index % 5 == 0:
            status, answer, _ = client.call("POST", "subscribe",
                                            {"customer": external_id, "product": "pro"})
            checkout = answer["data"]["checkoutId"]
            status, answer, _ = client.call("POST", f"test/checkouts/{checkout}/complete",
                                            {"card": CARD})
            assert status == 200, answer
            carded.append(external_id)
        if (index + 1) % 100 == 0:
            say(f"  seeded {index + 1} customers")
    return ids, carded


class Run:
    """What the clients saw: timings and statuses per call, accepted and re-sent tracks."""

    def __init__(self):
        self.lock = threading.Lock()
        self.timings: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.accepted: dict[str, tuple[str, int]] = {}  # idempotencyKey -> (customer, amount)
        self.resent: list[str] = []
        self.unknown: set[str] = set()  # tracks with no answer: recorded once or not at all

    def note(self, name: str, status: int, seconds: float) -> None:
        with self.lock:
            self.timings[name].append(seconds * 1000)
            self.statuses[name][status] += 1


def client_loop(slot: int, port: int, key: str, ids: list[str], carded: list[str],
                hot: list[str], stop: float, run: Run) -> None:
    rng = random.Random(slot)
    client = Client(port, key)
    names, weights = zip(*MIX)
    sent_keys: list[str] = []
    number = 0
    while time.perf_counter() < stop:
        name = rng.choices(names, weights)[0]
        who = rng.choice(hot) if rng.random() < 1 / 3 else rng.choice(ids)
        if name == "check":
            request = ("POST", "check", {"customer": who, "feature": FEATURE,
                                         "sendEvent": rng.random() < 0.3})
        elif name == "track":
            if sent_keys and rng.random() < 0.05:
                track_key, who = rng.choice(sent_keys)
                name = "track (re-sent)"
            else:
                number += 1
                track_key = f"load-{slot}-{number}"
            amount = rng.randint(1, 5)
            request = ("POST", "track", {"customer": who, "feature": FEATURE, "amount": amount,
                                         "idempotencyKey": track_key})
        elif name == "customer_get":
            request = ("GET", f"customers?id={who}", None)
        elif name == "customer_put":
            request = ("PUT", "customers", {"customerId": who, "name": f"Customer {who}"})
        elif name == "invoices":
            request = ("GET", f"invoices?customer={who}&limit=10", None)
        elif name == "subscribe":
            if carded and rng.random() < 0.5:
                who = rng.choice(carded)
                name = "subscribe (upgrade, card)"
            request = ("POST", "subscribe", {"customer": who, "product": rng.choice(PLANS)})
        elif name == "update":
            request = ("POST", "subscriptions/update", {
                "customer": rng.choice(carded or ids), "product": "pro",
                "cancelAction": rng.choice(["cancel_end_of_cycle", "uncancel"])})
        elif name == "cancel":
            request = ("POST", "cancel", {"customer": who, "product": rng.choice(PLANS)})
        else:
            request = ("POST", "preview", {"customer": who, "product": rng.choice(PLANS)})
        headers = {"Idempotency-Key": f"k-{slot}-{number}-{rng.random()}"} if (
            name.startswith("subscribe")) else None
        status, answer, seconds = client.call(*request, headers=headers)
        run.note(name, status, seconds)
        if name == "track":
            data = (answer or {}).get("data") or {}
            with run.lock:
                if status == 200 and data.get("recorded") and not data.get("duplicate"):
                    run.accepted[track_key] = (who, amount)
                elif status == 0 or status >= 500:
                    run.unknown.add(track_key)
            sent_keys.append((track_key, who))
        elif name == "track (re-sent)":
            with run.lock:
                run.resent.append(track_key)


def verify(conninfo: str, merchant_id: str, run: Run) -> list[str]:
    """Every accepted track once in the database, nothing else under the run's keys."""
    import psycopg

    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT e.idempotency_key, count(*), sum(e.amount) FROM billing_usageevent e "
            "WHERE e.merchant_id = %s AND e.idempotency_key LIKE 'load-%%' "
            "GROUP BY e.idempotency_key", [merchant_id]).fetchall()
    found = {key: (count, amount) for key, count, amount in rows}
    problems = []
    for key, (_who, amount) in run.accepted.items():
        if found.get(key) != (1, amount):
            problems.append(f"accepted track {key} (amount {amount}): database has "
                            f"{found.get(key)}")
    for key, (count, _amount) in found.items():
        if count != 1:
            problems.append(f"track {key} recorded {count} times")
        elif key not in run.accepted and key not in run.unknown:
            problems.append(f"track {key} recorded but never answered recorded: true")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--hot", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rate-limits", choices=["on", "off"], default="on",
                        help="on: as configured (needs REDIS_URL); off: RATE_LIMITS_ENABLED=false")
    args = parser.parse_args()
    seconds = min(args.seconds, MAX_SECONDS)
    conninfo = database_conninfo()
    env = {**os.environ, "DATABASE_URL": conninfo.replace("postgresql://", "postgres://", 1),
           "CELERY_TASK_ALWAYS_EAGER": "true"}
    if args.rate_limits == "off":
        env["RATE_LIMITS_ENABLED"] = "false"
    os.environ.update(DATABASE_URL=env["DATABASE_URL"])
    say("migrating …")
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
                   cwd=BASE_DIR, env=env, check=True)
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cynco.settings")
    django.setup()
    from cynco.merchants import merchant_create

    merchant, keys = merchant_create(name=f"Load {int(time.time())}")
    port = free_port()
    say(f"starting gunicorn on 127.0.0.1:{port} ({args.workers} workers x {args.threads} "
        f"threads; rate limits {args.rate_limits}) …")
    server = start_server(port, args, env)
    try:
        wait_until_up(port)
        say(f"seeding {args.customers} customers through the API …")
        ids, carded = seed(port, keys["secret_test"], args.customers)
        hot = ids[:args.hot]
        say(f"running the mix: {args.clients} clients for {seconds:.0f} s …")
        run = Run()
        stop = time.perf_counter() + seconds
        started = time.perf_counter()
        threads = [threading.Thread(target=client_loop, args=(
            slot, port, keys["secret_test"], ids, carded, hot, stop, run))
            for slot in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    say("measuring the floor (a minimal request on the same stack) …")
    floor_args = argparse.Namespace(**{**vars(args), "seconds": min(10.0, seconds)})
    floor_rate, _cpu = measure_floor(floor_args, env, conninfo)

    calls = sum(len(t) for t in run.timings.values())
    errors = sum(count for counter in run.statuses.values() for status, count in
                 counter.items() if status == 0 or status >= 500)
    limited = sum(counter[429] for counter in run.statuses.values())
    say(f"\n{calls} calls in {elapsed:.0f} s: {calls / elapsed:.0f} calls/s "
        f"(floor, a request doing no work: {floor_rate:.0f}/s); errors {errors}, "
        f"429s {limited}")
    say(f"{'call':28} {'count':>7} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for name, timings in sorted(run.timings.items()):
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(run.statuses[name].items()))
        say(f"{name:28} {len(timings):7} {percentile(timings, 0.5):8.1f} "
            f"{percentile(timings, 0.99):8.1f}  {statuses}")
    problems = verify(conninfo, merchant.id, run)
    say(f"\ntracks accepted {len(run.accepted)}, re-sent {len(run.resent)}, unanswered "
        f"{len(run.unknown)}; database: "
        + ("every accepted track counted once" if not problems else
           f"{len(problems)} disagreements:\n  " + "\n  ".join(problems[:20])))
    return 1 if errors or problems else 0


if __name__ == "__main__":
    sys.exit(main())

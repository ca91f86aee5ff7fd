"""Renewal throughput: N subscriptions fall due at once and the period-end job renews them all
(invoice with its number and ledger entry, an off-session sandbox charge, the payment posted).

    DATABASE_URL=… python bench/renewals.py [--sizes 1000,5000,10000] [--workers 4]
                                            [--max-seconds 240] [--baseline-seconds 5]

For each size (a separate run), a fresh merchant gets N customers on Pro (2000 a month) with a
saved sandbox card, all due one second ago (tests/billing/due_renewals.py), the tables
analyzed; then `billing.services.renewals.run_due` is timed as the beat job runs it, by
`--workers` runners at once sharing the work through SKIP LOCKED batches, as several Celery
workers do. Progress is
printed every few seconds; a size that runs past `--max-seconds` is reported as unfinished and
the bench stops. It prints total seconds and seconds per 1,000 for each size (growth should be
linear), and the pgbench baseline (bench/baseline.py) measured in the same run.
Target: 10,000 in ≤ 60 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cynco.settings")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "false")

import django  # noqa: E402

django.setup()

from django.db import connections  # noqa: E402

from bench.baseline import database_conninfo, pgbench_update_rate  # noqa: E402
from billing.models import Invoice  # noqa: E402
from billing.services.renewals import run_due  # noqa: E402
from cynco import clock  # noqa: E402
from cynco.merchants import merchant_create  # noqa: E402
from cynco.tenancy import Scope  # noqa: E402
from tests.billing.due_renewals import due_subscriptions  # noqa: E402

PROGRESS_EVERY = 5.0


# Tables the build fills; analyzed after it, as a database whose rows were written a month
# ago would be (else the planner, with statistics from before the build, scans them whole).
BUILT = ("billing_customer", "billing_subscription", "billing_balance", "billing_balancegrant",
         "gateways_paymentmethod", "gateways_sandboxpaymentmethod")


def build(size: int) -> Scope:
    merchant, _ = merchant_create(name=f"Bench renewals {size} {time.time():.0f}")
    scope = Scope(merchant.id, "test")
    due_subscriptions(scope, size)
    with connections["default"].cursor() as cursor:
        for table in BUILT:
            cursor.execute(f"ANALYZE {table}")
    return scope


def paid_count(scope: Scope) -> int:
    return Invoice.objects.for_scope(scope).filter(status="paid").count()


def renew(scope: Scope, size: int, workers: int, max_seconds: float) -> float | None:
    """Seconds to renew every due subscription of `scope`, or None past `max_seconds`."""
    at = clock.now(scope)
    results: list[Counter] = []
    finished = threading.Semaphore(0)

    def worker():
        try:
            results.append(run_due(scope=scope, at=at))
        finally:
            connections.close_all()
            finished.release()

    started = time.perf_counter()
    for _ in range(workers):
        threading.Thread(target=worker, daemon=True).start()
    waiting = workers
    while waiting:
        if finished.acquire(timeout=PROGRESS_EVERY):
            waiting -= 1
            continue
        elapsed = time.perf_counter() - started
        print(f"    … {paid_count(scope):>6,} of {size:,} paid after {elapsed:5.1f} s",
              flush=True)
        if elapsed > max_seconds:
            return None
    elapsed = time.perf_counter() - started
    ran = sum(results, Counter())
    paid = paid_count(scope)
    assert ran["renewals"] == size and paid == size, (ran, paid)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,5000,10000")
    parser.add_argument("--workers", type=int, default=4,
                        help="concurrent job runners sharing the work (SKIP LOCKED); threads "
                             "of one interpreter, so past a few they only add GIL switching "
                             "(docs/subscriptions.md, Renewal throughput)")
    parser.add_argument("--max-seconds", type=float, default=240,
                        help="give up on a size that takes longer than this")
    parser.add_argument("--baseline-seconds", type=int, default=5)
    args = parser.parse_args()
    conninfo = database_conninfo()
    hot = pgbench_update_rate(conninfo, hot=True, seconds=args.baseline_seconds)
    spread = pgbench_update_rate(conninfo, hot=False, seconds=args.baseline_seconds)
    print(f"pgbench baseline (8 clients, {args.baseline_seconds} s each): one hot row "
          f"{hot:,.0f} updates/s, 1,000 rows {spread:,.0f} updates/s", flush=True)
    print(f"{args.workers} workers, batches of {django.conf.settings.PERIOD_END_BATCH_SIZE}")
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        print(f"  building {size:,} due subscriptions …", flush=True)
        scope = build(size)
        print(f"  renewing {size:,} …", flush=True)
        elapsed = renew(scope, size, args.workers, args.max_seconds)
        if elapsed is None:
            print(f"  {size:,}: not finished after {args.max_seconds:.0f} s "
                  f"({paid_count(scope):,} paid); stopping", flush=True)
            break
        rows.append((size, elapsed))
        print(f"  {size:>6,} renewed in {elapsed:6.1f} s = {elapsed / size * 1000:5.2f} s "
              "per 1,000", flush=True)
    print(f"{'subscriptions':>13} {'seconds':>9} {'s per 1,000':>12}")
    for size, elapsed in rows:
        print(f"{size:>13,} {elapsed:>9.1f} {elapsed / size * 1000:>12.2f}")
    print("target: 10,000 in <= 60 s", flush=True)
    sys.stdout.flush()
    os._exit(0)  # leave unfinished daemon workers behind, if any


if __name__ == "__main__":
    main()

"""Statements per renewal: N plain renewals due at once, renewed by one runner of the
period-end job under CaptureQueriesContext, the statements counted by the module that sent them.

    DATABASE_URL=… python bench/renewal_queries.py [--size 100] [--top 12]

Prints statements per renewal (all phases: batch transaction, charges, settlement), then the
modules of billing/gateways/ledger/cynco that sent the most, so a reader sees where the round
trips go. Uses its own fresh merchant (tests/billing/due_renewals.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cynco.settings")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "false")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from billing.services.renewals import run_due  # noqa: E402
from cynco import clock  # noqa: E402
from cynco.merchants import merchant_create  # noqa: E402
from cynco.tenancy import Scope  # noqa: E402
from tests.billing.due_renewals import due_subscriptions  # noqa: E402

OWN = ("billing/", "gateways/", "ledger/", "cynco/")


def sender(stack) -> str:
    """The innermost frame of our own code (not this script) that sent a statement."""
    for frame in reversed(stack):
        path = frame.filename.replace(str(BASE_DIR) + os.sep, "")
        if path.startswith(OWN):
            return f"{path}:{frame.name}"
    return "?"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    merchant, _ = merchant_create(name=f"Renewal queries {time.time():.0f}")
    scope = Scope(merchant.id, "test")
    due_subscriptions(scope, args.size)
    senders: Counter = Counter()
    wrapper_stack = []

    def record(execute, sql, params, many, context):
        wrapper_stack.append(sender(traceback.extract_stack()[:-1]))
        return execute(sql, params, many, context)

    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(record):
        ran = run_due(scope=scope, at=clock.now(scope))
    assert ran["renewals"] == args.size, ran
    senders.update(wrapper_stack)
    total = len(captured.captured_queries)
    print(f"{args.size} renewals, one runner: {total} statements, "
          f"{total / args.size:.2f} per renewal")
    for name, count in senders.most_common(args.top):
        print(f"  {count:>6}  {count / args.size:6.2f}/renewal  {name}")


if __name__ == "__main__":
    main()

"""`manage.py run_period_end [--merchant ID] [--environment live|test] [--workers N]`: run the
period-end jobs now (renewals, overage, trial ends, scheduled changes, dunning, checkout
expiry), as the beat job does every minute, printing progress — for an operator catching up
after downtime or watching a large billing day.

Each merchant environment runs at its own clock (a test clock may be ahead). `--workers`
runners share the work through the jobs' SKIP LOCKED batches, as several Celery workers do; a
second copy of this command, or the beat job running meanwhile, is safe (nothing is invoiced
or charged twice).
"""

from __future__ import annotations

import threading
import time
from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from billing.models import Checkout, Subscription
from billing.services.checkout_expiry import checkouts_expire
from billing.services.renewals import due_count, run_due
from cynco import clock
from cynco.tenancy import Scope

PROGRESS_SECONDS = 2.0


class Command(BaseCommand):
    help = "Run the period-end jobs now for every (or one) merchant environment, with progress."

    def add_arguments(self, parser):
        parser.add_argument("--merchant", help="one merchant's id (default: every merchant)")
        parser.add_argument("--environment", choices=["live", "test"])
        parser.add_argument("--workers", type=int, default=4,
                            help="runners sharing the work (default 4)")

    def handle(self, *args, merchant=None, environment=None, workers=4, **options):
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        scopes = self.scopes(merchant, environment)
        if not scopes:
            self.stdout.write("Nothing to run: no merchant environment with subscriptions "
                              "or checkouts matches.")
            return
        total: Counter = Counter()
        for scope in scopes:
            total.update(self.run_scope(scope, workers))
        done = ", ".join(f"{name} {count:,}" for name, count in sorted(total.items()) if count)
        self.stdout.write(self.style.SUCCESS(f"Done: {done or 'nothing was due'}"))

    def scopes(self, merchant, environment) -> list[Scope]:
        found = set()
        for model in (Subscription, Checkout):
            rows = model.objects.all()
            if merchant:
                rows = rows.filter(merchant_id=merchant)
            if environment:
                rows = rows.filter(environment=environment)
            found.update(rows.values_list("merchant_id", "environment").distinct())
        return [Scope(merchant_id, env) for merchant_id, env in sorted(found)]

    def run_scope(self, scope: Scope, workers: int) -> Counter:
        at = clock.now(scope)
        due = due_count(scope=scope, at=at)
        label = f"{scope.merchant_id} {scope.environment}"
        self.stdout.write(f"{label}: {due:,} subscription(s) due by {at:%Y-%m-%d %H:%M:%S} UTC")
        results: list[Counter] = []
        failures: list[BaseException] = []
        started = time.perf_counter()

        def runner():
            try:
                results.append(run_due(scope=scope, at=at))
            except BaseException as exc:  # reported below, after the other runners end
                failures.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=runner) for _ in range(workers if due else 0)]
        for thread in threads:
            thread.start()
        while alive := [thread for thread in threads if thread.is_alive()]:
            alive[0].join(PROGRESS_SECONDS)
            if any(thread.is_alive() for thread in threads):
                left = due_count(scope=scope, at=at)
                self.stdout.write(f"  … {max(due - left, 0):,} of {due:,} handled, {left:,} "
                                  f"left ({time.perf_counter() - started:.0f} s)")
        if failures:
            raise CommandError(f"{label}: a runner failed: {failures[0]!r}")
        ran = sum(results, Counter())
        ran["checkoutExpiries"] = checkouts_expire(scope=scope, at=at)
        summary = ", ".join(f"{name} {count:,}" for name, count in sorted(ran.items()) if count)
        self.stdout.write(f"  {label}: {summary or 'nothing due'} "
                          f"in {time.perf_counter() - started:.1f} s")
        return ran

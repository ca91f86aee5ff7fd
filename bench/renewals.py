"""Renewal throughput: N subscriptions fall due at once and the period-end job renews them all
(invoice with its number and ledger entry, an off-session sandbox charge, the payment posted).

    DATABASE_URL=… python bench/renewals.py [--sizes 1000,5000,10000]

For each size, a fresh merchant gets N customers on Pro (2000 a month) with a saved sandbox
card, all due one second ago; `billing.services.renewals.run_due` is timed as the beat job runs
it, by `--workers` runners at once (8 by default; they share the work through SKIP LOCKED
batches, as several Celery workers do). It prints total seconds and seconds per 1,000 subscriptions, so growth can be
checked for linearity, and the pgbench baseline of the same minute. Target: 10,000 in ≤ 60 s.
"""

from __future__ import annotations

import argparse
import os
import threading
from collections import Counter
import sys
import time
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cynco.settings")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "false")

import django  # noqa: E402

django.setup()

from django.db import connections  # noqa: E402

from billing.models import Customer, Invoice, Product, Subscription  # noqa: E402
from billing.services.renewals import run_due  # noqa: E402
from cynco import clock  # noqa: E402
from cynco.merchants import merchant_create  # noqa: E402
from cynco.tenancy import Scope  # noqa: E402
from gateways.models import PaymentMethod  # noqa: E402
from gateways.sandbox.models import SandboxPaymentMethod  # noqa: E402
from tests.billing.catalog import PRO  # noqa: E402

from billing.api.product_input import ProductInput  # noqa: E402
from billing.services.catalog import product_define, product_definition  # noqa: E402


def build(size: int) -> Scope:
    merchant, _ = merchant_create(name=f"Bench renewals {size} {time.time():.0f}")
    scope = Scope(merchant.id, "test")
    values = ProductInput(data=PRO)
    values.is_valid(raise_exception=True)
    product_define(scope=scope, slug="pro",
                   definition=product_definition(dict(values.validated_data)))
    product = Product.objects.for_scope(scope).get(slug="pro")
    price = product.latest_version.prices.get()
    now = clock.now(scope)
    start, end = now - timedelta(days=30), now - timedelta(seconds=1)
    tenant = {"merchant_id": merchant.id, "environment": "test"}
    customers = Customer.objects.bulk_create(
        [Customer(external_id=f"user_{n}", **tenant) for n in range(size)], batch_size=2000)
    cards = SandboxPaymentMethod.objects.bulk_create(
        [SandboxPaymentMethod(customer_reference=c.id, card_number="4242424242424242",
                              brand="visa", exp_month=12, exp_year=2040, **tenant)
         for c in customers], batch_size=2000)
    PaymentMethod.objects.bulk_create(
        [PaymentMethod(customer_reference=c.id, gateway="sandbox", token=card.id, brand="visa",
                       last4="4242", exp_month=12, exp_year=2040, is_default=True, **tenant)
         for c, card in zip(customers, cards)], batch_size=2000)
    Subscription.objects.bulk_create(
        [Subscription(customer=c, product=product, product_version=product.latest_version,
                      price=price, status="active", current_period_start=start,
                      current_period_end=end, billing_anchor_day=start.day, **tenant)
         for c in customers], batch_size=2000)
    return scope


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,5000,10000")
    parser.add_argument("--workers", type=int, default=8,
                        help="concurrent job runners sharing the work (SKIP LOCKED)")
    args = parser.parse_args()
    print(f"{args.workers} workers")
    print(f"{'subscriptions':>13} {'seconds':>9} {'s per 1,000':>12} {'invoices':>9}")
    for size in (int(s) for s in args.sizes.split(",")):
        scope = build(size)
        at = clock.now(scope)
        results: list = []

        def worker():
            try:
                results.append(run_due(scope=scope, at=at))
            finally:
                connections.close_all()

        started = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(args.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        ran = sum(results, Counter())
        paid = Invoice.objects.for_scope(scope).filter(status="paid").count()
        assert ran["renewals"] == size and paid == size, (ran, paid)
        print(f"{size:>13,} {elapsed:>9.1f} {elapsed / size * 1000:>12.2f} {paid:>9,}",
              flush=True)


if __name__ == "__main__":
    main()

"""Racing plan changes through the API, and what must hold of the money after every run.

Each race is run RACE_RUNS times (3 in `make test`; `make race-soak` sets 50), every run on a
fresh customer of the same merchant, its requests released together in real threads against
PostgreSQL with a random delay of up to RACE_JITTER_MS (20 ms) each, so every interleaving
gets its turn. After every run `books_hold` checks the invariants of issue 12; a run's outcome
(what each request answered) is counted, and `race_report` prints the counts (appended to
RACE_REPORT when set, which bench/race_soak.py reads).
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from collections.abc import Callable

from django.db import connections

from billing.models import Invoice
from cynco.tenancy import Scope
from gateways.models import PaymentAttempt
from gateways.sandbox.models import SandboxPayment
from ledger.models import JournalEntry
from ledger.reconciliation import reconcile
from tests.billing.catalog import define, monthly
from tests.threads import race

RUNS = int(os.environ.get("RACE_RUNS", "3"))
JITTER = int(os.environ.get("RACE_JITTER_MS", "20")) / 1000

FREE = {"name": "Free", "slug": "free", "isDefault": True, "groupSlug": "main", "sortOrder": 0,
        "prices": [monthly(0)]}
PRO = {"name": "Pro", "slug": "pro", "groupSlug": "main", "sortOrder": 1,
       "prices": [monthly(2000)]}
ENTERPRISE = {"name": "Enterprise", "slug": "enterprise", "groupSlug": "main", "sortOrder": 2,
              "prices": [monthly(5000), {"type": "recurring", "billingInterval": "year",
                                         "amount": 54000}]}
ULTRA = {"name": "Ultra", "slug": "ultra", "groupSlug": "main", "sortOrder": 3,
         "prices": [monthly(9000, currency="USD")]}
SEATS = {"name": "Extra seats", "slug": "seats", "isAddOn": True, "groupSlug": "seats",
         "prices": [monthly(700)]}


def race_catalog(api) -> dict[str, dict]:
    """The plans the races change between, by slug."""
    return {body["slug"]: define(api, body) for body in (FREE, PRO, ENTERPRISE, ULTRA, SEATS)}


def jittered(attempts: list[Callable]) -> list:
    """tests.threads.race, each attempt after its own random delay (0..RACE_JITTER_MS)."""
    def delayed(attempt):
        def run():
            time.sleep(random.uniform(0, JITTER))
            try:
                return attempt()
            finally:
                connections.close_all()
        return run
    return race([delayed(attempt) for attempt in attempts])


def answer(response) -> str:
    """A request's answer in one word: the subscribe action, `canceled`, or the error code."""
    body = response.json()
    if not body.get("success"):
        return body["error"]["code"]
    data = body["data"]
    if "action" in data:
        return data["action"]
    if "canceled" in data:
        return "canceled" if data["canceled"] else "nothing"
    return data.get("status", "ok")


def unbooked_payments(scope: Scope) -> list[str]:
    """Every payment the sandbox took for `scope` that is neither on a paid invoice nor wholly
    refunded, or whose money is not booked (captured into clearing, and out again if
    refunded)."""
    found = []
    attempts = {a.provider_payment_id: a for a in PaymentAttempt.objects.filter(
        merchant_id=scope.merchant_id, environment=scope.environment,
        kind=PaymentAttempt.Kind.CHARGE).exclude(provider_payment_id="")}
    for payment in SandboxPayment.objects.filter(
            merchant_id=scope.merchant_id, environment=scope.environment,
            status=SandboxPayment.Status.SUCCEEDED):
        attempt = attempts.get(payment.id)
        ids = {payment.id} | ({attempt.id} if attempt else set())
        invoice_ids = set(Invoice.objects.for_scope(scope).filter(
            status=Invoice.Status.PAID, payment_attempt_id__in=ids).values_list("id", flat=True))
        refunded = payment.amount_refunded == payment.amount
        if not (invoice_ids or refunded):
            found.append(f"{payment.id} ({payment.amount} {payment.currency}): no paid invoice, "
                         "not refunded")
            continue
        captures = JournalEntry.objects.for_scope(scope).filter(kind="payment_captured")
        if invoice_ids:
            booked = captures.filter(invoice_id__in=invoice_ids).exists()
        else:
            booked = captures.filter(source_id__in=ids).exists()
        if not booked:
            found.append(f"{payment.id} ({payment.amount} {payment.currency}): not booked")
    return found


def books_hold(scope: Scope) -> list[str]:
    """What is wrong with the money of `scope`: payments neither invoiced nor refunded (or not
    booked), and every difference reconcile_ledger finds (trial balance per currency, clearing
    against invoices and against the gateway's own records)."""
    problems = unbooked_payments(scope)
    problems += [f"{c.check} {c.subject}: expected {c.expected}, booked {c.actual}"
                 for c in reconcile([scope]).differences]
    return problems


class Tally:
    """Outcomes and problems of one race over its runs."""

    def __init__(self, name: str):
        self.name, self.runs, self.outcomes, self.unbooked = name, 0, Counter(), 0
        self.problems: list[str] = []

    def add(self, outcome: tuple, scope: Scope) -> None:
        self.runs += 1
        self.outcomes[" + ".join(outcome)] += 1
        problems = books_hold(scope)
        self.unbooked += sum(1 for p in problems if "no paid invoice" in p or "not booked" in p)
        self.problems += [f"run {self.runs} ({' + '.join(outcome)}): {p}" for p in problems]

    def report(self) -> str:
        line = json.dumps({"race": self.name, "runs": self.runs,
                           "outcomes": dict(self.outcomes), "unbooked": self.unbooked,
                           "problems": len(self.problems)})
        path = os.environ.get("RACE_REPORT")
        if path:
            with open(path, "a") as out:
                out.write(line + "\n")
        print(line)
        return line

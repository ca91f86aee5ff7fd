"""What the server counts for Prometheus (docs/operations.md), and the one-line calls that count it.

The other modules call these functions (`metrics.usage_answered(...)`, `@metrics.timed_lock_wait`,
`metrics.payment_attempt_settled(...)`) and never touch prometheus_client themselves, so the
names, labels and buckets live here only.

Under gunicorn and Celery, `scripts/run.py` sets PROMETHEUS_MULTIPROC_DIR before any process
starts: prometheus_client then keeps each process's values in files there, and `/metrics`
(cynco.metrics_endpoint) adds them up. It must be set before this module is imported; without
it (tests, `manage.py runserver`) values live in the process.

Labels hold only bounded sets (route patterns, codes, gateway names, job names), never ids.
"""

from __future__ import annotations

import collections
import functools
import time

from django.db import transaction
from prometheus_client import Counter, Gauge, Histogram

from cynco.errors import ConcurrentRequest

REQUEST_SECONDS = Histogram(
    "cynco_http_request_duration_seconds",
    "Time from the first middleware to the response, by route pattern, method and status.",
    ["route", "method", "status"],
)
API_ERRORS = Counter(
    "cynco_api_errors",
    "Error answers by route pattern and error code (RATE_LIMITED, CONCURRENT_REQUEST, ...).",
    ["route", "code"],
)
USAGE_CALLS = Counter(
    "cynco_usage_calls",
    "check and track answers: call (check, track), path (fast: one statement; full; batch: "
    "/track/batch), outcome "
    "(allowed, denied; for track: recorded, duplicate, capped).",
    ["call", "path", "outcome"],
)
LOCK_WAIT_SECONDS = Histogram(
    "cynco_customer_lock_wait_seconds",
    "Time spent taking a customer's lock (outcome: acquired, or timeout: answered 429).",
    ["outcome"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
JOB_RUNS = Counter(
    "cynco_job_runs", "Background job runs by task name and outcome (success, failure).",
    ["job", "outcome"],
)
JOB_SECONDS = Histogram(
    "cynco_job_duration_seconds", "How long a background job ran, by task name.", ["job"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0),
)
JOB_LAST_SUCCESS = Gauge(
    "cynco_job_last_success_timestamp_seconds",
    "Unix time of the last successful run of each background job.",
    ["job"], multiprocess_mode="max",
)
PAYMENT_ATTEMPTS = Counter(
    "cynco_payment_attempts",
    "Payment attempts settled, by gateway, kind (charge, refund) and outcome (succeeded, "
    "failed, requires_action, canceled).",
    ["gateway", "kind", "outcome"],
)

_started: dict[str, float] = {}


def request_finished(*, route: str, method: str, status: int, seconds: float,
                     error_code: str | None) -> None:
    """One HTTP request answered (cynco.request_log)."""
    REQUEST_SECONDS.labels(route, method, str(status)).observe(seconds)
    if error_code:
        API_ERRORS.labels(route, error_code).inc()


def usage_answered(call: str, path: str, answer) -> None:
    """A check or track answered. `answer` is billing's usage Answer (read by attribute names:
    allowed, recorded, duplicate, spend_cap_exceeded); `call` "peek" counts as "check"."""
    if call == "track":
        outcome = _track_outcome(answer)
    else:
        outcome = "allowed" if answer.allowed else "denied"
    USAGE_CALLS.labels("track" if call == "track" else "check", path, outcome).inc()


def usage_batch_answered(answers) -> None:
    """The tracks of a /track/batch answered (path "batch"); events answered with an error
    (no `recorded` attribute) are left out, as single tracks' errors are."""
    counts = collections.Counter(
        _track_outcome(answer) for answer in answers if hasattr(answer, "recorded"))
    for outcome, count in counts.items():
        USAGE_CALLS.labels("track", "batch", outcome).inc(count)


def _track_outcome(answer) -> str:
    return ("duplicate" if answer.duplicate else "capped" if answer.spend_cap_exceeded
            else "recorded")


def timed_lock_wait(take_lock):
    """Decorates the function that takes a customer's lock: times the wait, and counts a
    ConcurrentRequest (the lock wait ran out: 429) as outcome "timeout"."""

    @functools.wraps(take_lock)
    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            result = take_lock(*args, **kwargs)
        except ConcurrentRequest:
            LOCK_WAIT_SECONDS.labels("timeout").observe(time.perf_counter() - started)
            raise
        LOCK_WAIT_SECONDS.labels("acquired").observe(time.perf_counter() - started)
        return result

    return timed


def payment_attempt_settled(attempt) -> None:
    """A payment attempt reached an outcome (gateways' settlement): counted once its
    transaction commits, so a rolled-back settlement is not counted. `attempt` is read by
    attribute: gateway, kind, status."""
    labels = (attempt.gateway or "unknown", attempt.kind, attempt.status)
    transaction.on_commit(lambda: PAYMENT_ATTEMPTS.labels(*labels).inc())


def job_started(task_id: str) -> None:
    _started[task_id] = time.perf_counter()


def job_finished(task_id: str, job: str, *, succeeded: bool) -> None:
    """A Celery task ended (connected to Celery's signals by cynco.job_signals)."""
    started = _started.pop(task_id, None)
    JOB_RUNS.labels(job, "success" if succeeded else "failure").inc()
    if started is not None:
        JOB_SECONDS.labels(job).observe(time.perf_counter() - started)
    if succeeded:
        JOB_LAST_SUCCESS.labels(job).set(time.time())

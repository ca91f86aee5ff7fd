"""Moving a test environment's clock, and running what falls due, before answering."""

from __future__ import annotations

from datetime import datetime

from billing.services.balance_locks import balance_locks_release_expired
from billing.services.billing_emails import email_notices_queue
from billing.services.checkout_expiry import checkouts_expire
from billing.services.renewals import run_due
from cynco import clock
from cynco.tenancy import Scope

RAN_KEYS = ("renewals", "invoices", "trialEnds", "downgrades", "cancellations", "resumes",
            "dunningSteps", "charges", "failedCharges", "lockReleases", "checkoutExpiries")


def test_clock_advance(*, scope: Scope, seconds: int) -> tuple[datetime, dict]:
    """Move `scope`'s test clock `seconds` forward, then run every period-end job due by the
    new time, in order (billing.services.renewals.run_due), release the balance locks that
    expired by then, expire unfinished checkouts and queue the trial-ending and renewal emails
    due by then. Returns (now, ran counts)."""
    now = clock.advance(scope=scope, seconds=seconds)
    ran = dict(run_due(scope=scope, at=now))
    ran["lockReleases"] = balance_locks_release_expired(scope=scope)
    ran["checkoutExpiries"] = checkouts_expire(scope=scope, at=now)
    email_notices_queue(scope=scope, at=now)
    return now, {key: ran.get(key, 0) for key in RAN_KEYS}

"""Per-customer serialization (DESIGN.md, Concurrency).

Every service that changes one customer's money or balances calls `lock_customer` as the first
statement of its transaction. It is the one place that knows how the lock is taken: today a
PostgreSQL advisory transaction lock; on Citus it can become a row lock on the customer's row.

The lock's key is also computed inside PostgreSQL, by the SQL function
`cynco_customer_lock_key(customer_id)` (migration cynco 0002), for the one-statement check and
track (billing.services.usage_fast_path): both must give the same key for the same customer, which
a test checks. Changing the key changes which lock a customer has: every server process must then
be restarted together, or old and new ones would not exclude each other.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import OperationalError, connection

from cynco import metrics
from cynco.errors import ConcurrentRequest

LOCK_NAMESPACE = b"cynco.customer:"


def customer_lock_key(customer_id: str) -> int:
    """A stable signed 64-bit key for `pg_advisory_xact_lock`, from the customer's id: the first
    8 bytes of SHA-256, as SQL's `cynco_customer_lock_key` computes it too."""
    digest = hashlib.sha256(LOCK_NAMESPACE + customer_id.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@metrics.timed_lock_wait
def lock_customer(customer_id: str) -> None:
    """Wait (at most CUSTOMER_LOCK_WAIT_SECONDS) for the customer's lock, held until commit.

    Raises ConcurrentRequest (429, safe to retry) when the wait runs out.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("lock_customer must run inside a transaction")
    wait_ms = int(settings.CUSTOMER_LOCK_WAIT_SECONDS * 1000)
    try:
        # One round trip: the select list is evaluated left to right, so the wait is bounded
        # by lock_timeout and the timeout is lifted again once the lock is held. A timeout
        # aborts the transaction, which the caller's atomic block then rolls back.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('lock_timeout', %s, true), pg_advisory_xact_lock(%s), "
                "set_config('lock_timeout', '0', true)",
                [f"{wait_ms}ms", customer_lock_key(customer_id)],
            )
    except OperationalError as exc:
        if getattr(getattr(exc, "__cause__", None), "sqlstate", None) == "55P03":
            raise ConcurrentRequest() from exc
        raise


def try_lock_customer(customer_id: str) -> bool:
    """Take the customer's lock if it is free, without waiting; False when someone holds it.

    For background jobs that already hold row locks (SKIP LOCKED batches): waiting for the
    customer lock there could deadlock with a request that holds it and wants those rows.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("try_lock_customer must run inside a transaction")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [customer_lock_key(customer_id)])
        return bool(cursor.fetchone()[0])


def try_lock_customers(customer_ids) -> set[str]:
    """`try_lock_customer` for a batch, in one statement: the ids whose lock was free (now
    held until commit). Busy customers are left for the next run."""
    if not connection.in_atomic_block:
        raise RuntimeError("try_lock_customers must run inside a transaction")
    by_key = {customer_lock_key(customer_id): customer_id for customer_id in set(customer_ids)}
    if not by_key:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT k FROM unnest(%s::bigint[]) AS k WHERE pg_try_advisory_xact_lock(k)",
            [sorted(by_key)],
        )
        return {by_key[key] for (key,) in cursor.fetchall()}

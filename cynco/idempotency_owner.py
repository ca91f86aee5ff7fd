"""Who is running the request of an `Idempotency-Key`: a lock held by the owner's transaction.

While a request with a key runs, its process holds `pg_advisory_xact_lock(<key>)` in an open
transaction on a connection of its own (not Django's: the handler's transactions must commit
on their own, before a gateway call). When the process dies — `kill -9`, a lost machine — the
server ends that transaction and the lock is free again, so a retry can tell "still running"
(lock held: 409) from "died" (lock free: take over at once) without waiting for a timeout.

The lock is transaction-scoped, so this works behind PgBouncer in transaction pooling too (the
owner's transaction pins one server connection for the request's duration). The connection
lives as long as the request: a request with a key costs one more connect (a few milliseconds);
requests without a key cost nothing.
"""

from __future__ import annotations

import hashlib

import psycopg
from django.db import connection

LOCK_NAMESPACE = b"cynco.idempotency:"


def owner_lock_key(merchant_id: str, environment: str, key: str) -> int:
    digest = hashlib.sha256(
        LOCK_NAMESPACE + f"{merchant_id}\x00{environment}\x00{key}".encode()
    ).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _owner_connection() -> psycopg.Connection:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=True)


class OwnerLock:
    """`try_acquire()` once; `release()` when the request is over (idempotent)."""

    def __init__(self, lock_key: int):
        self.lock_key = lock_key
        self._connection: psycopg.Connection | None = None

    def try_acquire(self) -> bool:
        """Take the key's lock without waiting; False when another live request holds it."""
        conn = _owner_connection()
        try:
            conn.execute("BEGIN")
            held = conn.execute("SELECT pg_try_advisory_xact_lock(%s)",
                                [self.lock_key]).fetchone()[0]
        except BaseException:
            conn.close()
            raise
        if not held:
            conn.close()
            return False
        self._connection = conn
        return True

    def release(self) -> None:
        conn, self._connection = self._connection, None
        if conn is None:
            return
        conn.close()  # ends the transaction, and with it the lock

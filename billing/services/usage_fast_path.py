"""check and track in one database round trip: their common case (docs/entitlements.md,
Performance).

The SQL function `billing_usage_record` (migration billing 0009) finds the caller's API key by
its hash, the customer, the feature and its balance, and for a write takes the customer's lock
(`cynco_customer_lock_key`, the same key as cynco.locks), re-reads the balance, decides with the
rules of billing.entitlement_rules and appends the usage event. Outside a transaction that is
one statement, so the customer's lock is held only while PostgreSQL runs it and commits, never
while Python runs.

Whatever is not the common case it leaves untouched and answers `fallback`: an unknown or
revoked key, a key due for its lastUsedAt stamp or lacking the permission, an unknown customer
or feature, a balance to create, a period that ended, a reservation that expired, a threshold
crossed (a webhook event to emit), a boolean feature to track. The caller then runs the full
path (billing.services.usage through the DRF views), which answers exactly as it always did.
"""

from __future__ import annotations

import select
import time
from dataclasses import dataclass
from decimal import Decimal

import psycopg
from django.conf import settings
from django.db import DataError, IntegrityError, OperationalError, connection, transaction

from billing.entitlement_rules import Standing
from billing.models.entitlements import new_usage_event_id
from billing.services.usage import Answer, metadata_jsonb
from cynco.authentication import LAST_USED_RESOLUTION
from cynco.clock import wall_now
from cynco.errors import ConcurrentRequest
from cynco.keys import hash_key

PEEK, CHECK, TRACK = "peek", "check", "track"
_WRITES = (CHECK, TRACK)
_SQL = "SELECT * FROM billing_usage_record(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
_LOCK_TIMEOUT = "55P03"


@dataclass(frozen=True)
class UsageCall:
    """One check or track, validated: `amount` is track's amount or check's requiredBalance."""

    mode: str
    raw_key: str
    customer: str
    feature: str
    amount: Decimal
    entity_key: str = ""
    idempotency_key: str | None = None
    metadata: dict | None = None


def usage_fast(call: UsageCall) -> Answer | None:
    """The answer of `call` when the one-statement path could give it, else None (nothing was
    read for good or written: run the full path). A write takes the customer's lock (as
    lock_customer, inside the statement) and posts no ledger entry. Raises ConcurrentRequest
    (429) when the lock was busy for CUSTOMER_LOCK_WAIT_SECONDS."""
    wall = wall_now()
    params = [
        call.mode, hash_key(call.raw_key), call.customer, call.feature, call.entity_key,
        call.amount, call.idempotency_key,
        metadata_jsonb(call.metadata),
        new_usage_event_id() if call.mode in _WRITES else None,
        wall, wall - LAST_USED_RESOLUTION,
        f"{int(settings.CUSTOMER_LOCK_WAIT_SECONDS * 1000)}ms",
    ]
    try:
        row = _run(params)
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == _LOCK_TIMEOUT:
            raise ConcurrentRequest() from exc
        raise
    except (DataError, IntegrityError):
        # Rolled back with the statement: the full path meets it again and answers it.
        return None
    return _answer(call, row)


def _run(params: list) -> tuple:
    # In autocommit the statement is its own transaction: its lock ends with it. Inside a
    # caller's transaction (tests), a savepoint keeps an error from spoiling that transaction.
    if connection.in_atomic_block:
        with transaction.atomic():
            return _fetch(params)
    return _fetch(params)


def _fetch(params: list) -> tuple:
    """Run the statement on Django's connection with a server-side binding cursor. On a
    persistent connection (DB_CONN_MAX_AGE > 0) psycopg prepares it after a few runs (its
    `prepare_threshold`), so PostgreSQL no longer parses and plans it each time; with
    connections per request (behind PgBouncer, docs/deployment.md) nothing is prepared.
    Logged in `connection.queries` like any statement when queries are logged."""
    connection.validate_no_broken_transaction()
    _ensure_live_connection()
    prepare = None if connection.settings_dict["CONN_MAX_AGE"] != 0 else False
    started = time.monotonic()
    try:
        with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(_SQL, params, prepare=prepare)
            return cursor.fetchone()
    finally:
        if connection.queries_logged:
            connection.queries_log.append({"sql": f"{_SQL} -- {params[0]}",
                                           "time": f"{time.monotonic() - started:.3f}"})


def _ensure_live_connection() -> None:
    """Django's connection, open; a reused one that PostgreSQL has closed meanwhile (a
    restart, a terminated backend: the socket then has something to read) is replaced first.
    This stands in for Django's health check (CONN_HEALTH_CHECKS), which costs a `SELECT 1`
    round trip per request."""
    connection.validate_thread_sharing()
    connection.ensure_connection()
    if not connection.in_atomic_block:
        poller = select.poll()
        poller.register(connection.connection.fileno(), select.POLLIN)
        if poller.poll(0):
            connection.close()
            connection.ensure_connection()
    connection.health_check_done = True


def _answer(call: UsageCall, row: tuple) -> Answer | None:
    outcome, is_boolean, has_balance, *terms = row
    if outcome == "fallback":
        return None
    if is_boolean:  # a plain check of a boolean feature
        return Answer(allowed=has_balance and terms[0] > 0, is_boolean=True, standing=None)
    if not has_balance:  # a plain check of a feature the customer's plans do not give
        return Answer(allowed=False, is_boolean=False, standing=Standing())
    granted, used, reserved, unlimited, overage_allowed, overage_price, spend_cap = terms
    standing = Standing(
        granted=granted, used=used, reserved=reserved, unlimited=unlimited,
        overage_allowed=overage_allowed, overage_price=overage_price, spend_cap=spend_cap,
    )
    if call.mode == PEEK:
        return Answer(allowed=standing.may_use(call.amount), is_boolean=False, standing=standing)
    if call.mode == CHECK:
        return Answer(allowed=outcome == "recorded", is_boolean=False, standing=standing)
    return track_answer(outcome, standing)


def track_answer(outcome: str, standing: Standing) -> Answer:
    """track's answer for an outcome of `billing_usage_track_batch` (recorded, duplicate or
    capped) and the standing after it."""
    return Answer(
        allowed=outcome != "capped" and standing.usable_after(), is_boolean=False,
        standing=standing, recorded=outcome == "recorded", duplicate=outcome == "duplicate",
        spend_cap_exceeded=outcome == "capped",
    )

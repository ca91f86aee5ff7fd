"""Finalizing reservations made by `check` with `lock`, and giving back expired ones.

`check` opens locks (billing.services.usage). `confirm` records the used amount (default: what
was reserved) and returns the rest; `release` returns all of it. Exactly once: a second
finalize is 409 LOCK_ALREADY_FINALIZED, one after the expiry 410 LOCK_EXPIRED, and an expired
lock is given back by whichever comes first: a request touching its balance, a finalize, or
the beat job below.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F

from billing.entitlement_rules import threshold_level
from billing.models import Balance, BalanceLock, UsageEvent
from billing.services.balances import (
    balance_refresh_lock_expiry, balance_release_expired, balance_settle,
)
from billing.services.usage import announce_threshold, standing_of
from cynco import clock
from cynco.errors import Conflict, LockAlreadyFinalized, LockExpired, NotFound
from cynco.locks import lock_customer, try_lock_customer
from cynco.tenancy import Scope


@dataclass(frozen=True)
class Finalized:
    success: bool
    adjusted: Decimal


def lock_finalize(
    *, scope: Scope, lock_key: str, action: str, override_value: Decimal | None = None,
    customer: str | None = None,
) -> Finalized:
    """Confirm or release the lock `lock_key` (API.md, check with lock).

    `adjusted` is reserved minus used (negative when more was used than reserved). A lockId
    shared by two customers needs `customer` to say whose (409 otherwise). Takes
    lock_customer; no ledger entry. Raises NotFound, LockAlreadyFinalized, LockExpired.
    """
    found = BalanceLock.objects.for_scope(scope).filter(lock_key=lock_key)
    if customer is not None:
        found = found.filter(customer__external_id=customer, customer__deleted_at__isnull=True)
    candidates = list(found.values_list("id", "customer_id")[:2])
    if not candidates:
        raise NotFound(f"No lock '{lock_key}'")
    if len(candidates) > 1:
        raise Conflict("Several customers use this lockId; pass `customer` to say whose")
    lock_id, customer_id = candidates[0]
    at = clock.now(scope)
    with transaction.atomic():
        lock_customer(customer_id)
        held = BalanceLock.objects.get(pk=lock_id)
        balance = balance_settle(Balance.objects.get(pk=held.balance_id), at)
        held.refresh_from_db(fields=["status"])
        if held.status == BalanceLock.Status.OPEN:
            return _finalize(scope, held, balance, action, override_value, at)
    # Outside the transaction: an expiry given back just now stays given back.
    if held.status == BalanceLock.Status.EXPIRED:
        raise LockExpired(f"Lock '{lock_key}' expired at {held.expires_at.isoformat()}")
    raise LockAlreadyFinalized(f"Lock '{lock_key}' was already {held.status}")


def _finalize(scope, held: BalanceLock, balance: Balance, action: str, override, at):
    used = (held.amount if override is None else override) if action == "confirm" else Decimal(0)
    held.status = (
        BalanceLock.Status.CONFIRMED if action == "confirm" else BalanceLock.Status.RELEASED
    )
    held.used, held.finalized_at = used, at
    held.save(update_fields=["status", "used", "finalized_at"])
    standing = standing_of(balance)
    standing.reserved -= held.amount
    standing.used += used
    level = threshold_level(standing)
    Balance.objects.filter(pk=balance.pk).update(
        reserved=F("reserved") - held.amount, used=F("used") + used, threshold_sent=level,
        updated_at=at,
    )
    announce_threshold(scope, balance, standing, level)
    balance.refresh_from_db(fields=["reserved"])
    balance_refresh_lock_expiry(balance)
    if used:
        UsageEvent.objects.create(
            merchant_id=scope.merchant_id, environment=scope.environment,
            customer_id=held.customer_id, feature_id=balance.feature_id,
            entity_key=balance.entity_key, amount=used, source=UsageEvent.Source.LOCK,
            created_at=at,
        )
    return Finalized(success=True, adjusted=held.amount - used)


_DUE_LOCKS_SQL = """
SELECT l.id, l.customer_id, l.balance_id, l.merchant_id, l.environment
FROM billing_balancelock l
LEFT JOIN cynco_environmentclock k
  ON k.merchant_id = l.merchant_id AND k.environment = l.environment
WHERE l.status = 'open'
  AND l.expires_at <= %s + make_interval(secs => COALESCE(k.offset_seconds, 0))
  AND (%s::text IS NULL OR (l.merchant_id = %s AND l.environment = %s))
ORDER BY l.expires_at
LIMIT %s
FOR UPDATE OF l SKIP LOCKED
"""


def balance_locks_release_expired(*, scope: Scope | None = None, batch_size: int = 500) -> int:
    """Give back every open lock past its expiry (on its environment's clock), in batches
    picked with FOR UPDATE SKIP LOCKED so several workers share the work. A customer whose
    lock is busy is skipped (never waited for, which could deadlock with its request); its
    next request or the next run settles it. Answers how many locks were released. Takes
    the customer locks it can get without waiting; no ledger entry. With `scope`, only that
    merchant environment's locks (the test clock's advance)."""
    released = 0
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                merchant_id = scope.merchant_id if scope else None
                environment = scope.environment if scope else None
                cursor.execute(
                    _DUE_LOCKS_SQL,
                    [clock.wall_now(), merchant_id, merchant_id, environment, batch_size],
                )
                rows = cursor.fetchall()
            done = 0
            balances = {(row[1], row[2], row[3], row[4]) for row in rows}
            for customer_id in sorted({row[1] for row in rows}):
                if not try_lock_customer(customer_id):
                    continue
                for owner, balance_id, merchant_id, environment in balances:
                    if owner != customer_id:
                        continue
                    at = clock.now(Scope(merchant_id, environment))
                    done += balance_release_expired(Balance.objects.get(pk=balance_id), at)
        released += done
        if len(rows) < batch_size or done == 0:
            return released

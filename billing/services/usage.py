"""check and track: the hot path (API.md, check / track; DESIGN.md, Concurrency).

One query finds the customer, the feature and its balance row. A plain check answers from it
without a transaction. Everything that changes a balance runs in one transaction that takes
lock_customer first, re-reads the row, settles what fell due (expired reservations, a period
that ended), decides with billing.entitlement_rules, then updates the row in place and appends the
UsageEvent in one statement: a constant handful of queries whatever the history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from psycopg.types.json import Jsonb
from django.db.models import F

from billing.entitlement_rules import ZERO, Standing, threshold_level
from billing.models import Balance, BalanceLock, Customer, Feature, UsageEvent
from billing.models.entitlements import new_usage_event_id
from billing.services.balances import balance_settle
from billing.services.webhooks import emit_event
from cynco import clock
from cynco.errors import Conflict, CustomerNotFound, FeatureNotFound, ValidationFailed
from cynco.fields import usage_number
from cynco.locks import lock_customer
from cynco.tenancy import Scope

LOCK_TTL_MIN = timedelta(seconds=1)
LOCK_TTL_MAX = timedelta(hours=24)

_BALANCE_FIELDS = [field.attname for field in Balance._meta.concrete_fields]
_TARGET_SQL = f"""
SELECT c.id, f.id, f.type, {", ".join(f"b.{name}" for name in _BALANCE_FIELDS)}
FROM billing_customer c
LEFT JOIN billing_feature f
  ON f.merchant_id = c.merchant_id AND f.environment = c.environment AND f.slug = %s
LEFT JOIN LATERAL (
  SELECT * FROM billing_balance x
  WHERE x.customer_id = c.id AND x.feature_id = f.id AND x.entity_key IN ('', %s)
  ORDER BY x.entity_key DESC LIMIT 1
) b ON TRUE
WHERE c.merchant_id = %s AND c.environment = %s AND c.external_id = %s
  AND c.deleted_at IS NULL
LIMIT 1
"""


# The in-place update of the balance and the appended event, in one round trip.
_RECORD_SQL = """
WITH changed AS (
  UPDATE billing_balance
  SET used = used + %s, reserved = reserved + %s, threshold_sent = %s, updated_at = %s
  WHERE id = %s
  RETURNING id
)
INSERT INTO billing_usageevent (id, merchant_id, environment, customer_id, feature_id,
  entity_key, amount, source, idempotency_key, metadata, created_at)
SELECT %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s FROM changed
"""


@dataclass
class Target:
    """Whose balance a call is about: found in one query, before any lock."""

    customer_id: str
    feature_id: str
    is_boolean: bool
    balance: Balance | None


@dataclass
class Answer:
    """What check and track answer (rendered by billing.api.usage)."""

    allowed: bool
    is_boolean: bool
    standing: Standing | None
    lock_id: str | None = None
    recorded: bool = False
    duplicate: bool = False
    spend_cap_exceeded: bool = False


@dataclass(frozen=True)
class LockRequest:
    lock_key: str | None
    expires_at_ms: int


def usage_target(scope: Scope, customer: str, feature: str, entity_key: str = "") -> Target:
    """The customer, feature and balance (the entity's own, else the customer's) of a call.
    Raises CustomerNotFound / FeatureNotFound (404)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _TARGET_SQL, [feature, entity_key, scope.merchant_id, scope.environment, customer]
        )
        row = cursor.fetchone()
    if row is None:
        raise CustomerNotFound(f"No customer '{customer}'")
    customer_id, feature_id, feature_type, *values = row
    if feature_id is None:
        raise FeatureNotFound(f"No feature '{feature}'")
    balance = Balance.from_db(connection.alias, _BALANCE_FIELDS, values) if values[0] else None
    return Target(customer_id, feature_id, feature_type == Feature.Type.BOOLEAN, balance)


def standing_of(balance: Balance | None) -> Standing:
    if balance is None:
        return Standing()
    return Standing(
        granted=balance.granted, used=balance.used, reserved=balance.reserved,
        unlimited=balance.unlimited, overage_allowed=balance.overage_allowed,
        overage_price=balance.overage_price, spend_cap=balance.spend_cap,
    )


def _due(balance: Balance, at: datetime) -> bool:
    return (balance.period_end is not None and balance.period_end <= at) or (
        balance.next_lock_expiry is not None and balance.next_lock_expiry <= at
    )


def entitlement_check(
    *, scope: Scope, customer: str, feature: str, required: Decimal = Decimal(1),
    send_event: bool = False, entity_key: str = "", lock: LockRequest | None = None,
) -> Answer:
    """May `customer` use `required` units of `feature` now (API.md, check)?

    With `send_event` (and allowed) it deducts `required` and records the usage; with `lock`
    it reserves `required` until the lock's expiry instead (`send_event` then changes
    nothing). A plain check takes no lock and writes nothing unless something fell due.
    Changes take lock_customer; no ledger entry.
    """
    target = usage_target(scope, customer, feature, entity_key)
    if target.is_boolean:
        if send_event:
            raise ValidationFailed.field("sendEvent", "A boolean feature has no balance.")
        if lock is not None:
            raise ValidationFailed.field("lock", "A boolean feature has no balance to lock.")
        granted = target.balance is not None and target.balance.granted > 0
        return Answer(allowed=granted, is_boolean=True, standing=None)
    at = clock.now(scope)
    balance = target.balance
    if not send_event and lock is None and (balance is None or not _due(balance, at)):
        standing = standing_of(balance)
        return Answer(allowed=balance is not None and standing.may_use(required),
                      is_boolean=False, standing=standing)
    with transaction.atomic():
        lock_customer(target.customer_id)
        if balance is not None:
            balance = balance_settle(Balance.objects.get(pk=balance.pk), at)
        standing = standing_of(balance)
        allowed = balance is not None and standing.may_use(required)
        answer = Answer(allowed=allowed, is_boolean=False, standing=standing)
        if not allowed or (lock is None and not send_event):
            return answer
        if lock is not None:
            answer.lock_id = _reserve(scope, balance, standing, required, lock, at)
        else:
            record_usage(scope, balance, standing, required, at, source=UsageEvent.Source.CHECK,
                    entity_key=entity_key)
        return answer


def usage_track(
    *, scope: Scope, customer: str, feature: str, amount: Decimal = Decimal(1),
    entity_key: str = "", idempotency_key: str | None = None, metadata: dict | None = None,
) -> Answer:
    """Record that `customer` used `amount` of `feature` (negative: a correction, never below
    nothing used) and answer the balance after (API.md, track).

    Refuses (recorded false, spend_cap_exceeded) only when the amount would push the
    period's overage cost past the spend cap. A repeated `idempotency_key` is not counted
    again (duplicate); the customer lock serializes repeats and a unique index backs it.
    Takes lock_customer; no ledger entry.
    """
    target = usage_target(scope, customer, feature, entity_key)
    if target.is_boolean:
        raise ValidationFailed.field("feature", "A boolean feature cannot be tracked.")
    at = clock.now(scope)
    with transaction.atomic():
        lock_customer(target.customer_id)
        if target.balance is None:
            balance = _ungranted_balance(scope, target, at)
        else:
            balance = balance_settle(Balance.objects.get(pk=target.balance.pk), at)
        standing = standing_of(balance)
        if idempotency_key is not None and UsageEvent.objects.filter(
            customer_id=target.customer_id, idempotency_key=idempotency_key
        ).exists():
            return Answer(allowed=standing.usable_after(), is_boolean=False, standing=standing,
                          duplicate=True)
        if amount > 0 and not standing.unlimited and not standing.cap_allows(amount):
            return Answer(allowed=False, is_boolean=False, standing=standing,
                          spend_cap_exceeded=True)
        effective = amount if amount >= 0 else max(amount, -standing.used)
        record_usage(scope, balance, standing, effective, at, source=UsageEvent.Source.TRACK,
                entity_key=entity_key, idempotency_key=idempotency_key, metadata=metadata)
        return Answer(allowed=standing.usable_after(), is_boolean=False, standing=standing,
                      recorded=True)


def _ungranted_balance(scope: Scope, target: Target, at: datetime) -> Balance:
    """A balance with nothing granted, so usage of a feature no plan gives is still kept."""
    balance, _ = Balance.objects.get_or_create(
        customer_id=target.customer_id, feature_id=target.feature_id, entity_key="",
        defaults={"merchant_id": scope.merchant_id, "environment": scope.environment,
                  "period_anchor": at, "period_start": at},
    )
    return balance


def record_usage(
    scope: Scope, balance: Balance, standing: Standing, amount: Decimal, at: datetime, *,
    source: str, entity_key: str, idempotency_key: str | None = None,
    metadata: dict | None = None, reserved: Decimal = ZERO,
) -> None:
    """Add `amount` to used (and `reserved` to reserved) in place, append the usage event,
    and move `standing` to the values after."""
    standing.used += amount
    standing.reserved += reserved
    level = threshold_level(standing)
    with connection.cursor() as cursor:
        cursor.execute(_RECORD_SQL, [
            amount, reserved, level, at, balance.pk, new_usage_event_id(), scope.merchant_id,
            scope.environment, balance.customer_id, balance.feature_id, entity_key, amount,
            source, idempotency_key, metadata_jsonb(metadata), at,
        ])
    announce_threshold(scope, balance, standing, level)


def metadata_jsonb(metadata: dict | None) -> Jsonb | None:
    """track's `metadata` as a jsonb parameter. The API's JSON parser reads fractional numbers
    as Decimal (cynco.parsers): they are stored as JSON numbers (ints when whole)."""
    if metadata is None:
        return None
    return Jsonb(metadata, dumps=_metadata_dumps)


def _metadata_dumps(value) -> str:
    return json.dumps(value, default=_decimal_number)


def _decimal_number(value):
    if isinstance(value, Decimal):
        return usage_number(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _reserve(
    scope: Scope, balance: Balance, standing: Standing, amount: Decimal, lock: LockRequest,
    at: datetime,
) -> str:
    """Open a BalanceLock of `amount` on `balance`: the client's wall-clock `expiresAt` becomes
    a time-to-live (1 s to 24 h) applied on the environment's clock."""
    wall_ms = int(clock.wall_now().timestamp() * 1000)
    ttl = min(max(timedelta(milliseconds=lock.expires_at_ms - wall_ms), LOCK_TTL_MIN),
              LOCK_TTL_MAX)
    held = BalanceLock(
        merchant_id=scope.merchant_id, environment=scope.environment,
        customer_id=balance.customer_id, balance=balance, amount=amount, created_at=at,
        expires_at=at + ttl,
    )
    held.lock_key = lock.lock_key or held.id
    if BalanceLock.objects.filter(customer_id=balance.customer_id,
                                  lock_key=held.lock_key).exists():
        raise Conflict(f"lockId '{held.lock_key}' was already used for this customer")
    held.save(force_insert=True)
    standing.reserved += amount
    expiry = held.expires_at
    if balance.next_lock_expiry is not None:
        expiry = min(expiry, balance.next_lock_expiry)
    level = threshold_level(standing)
    Balance.objects.filter(pk=balance.pk).update(
        reserved=F("reserved") + amount, next_lock_expiry=expiry, threshold_sent=level,
        updated_at=at,
    )
    announce_threshold(scope, balance, standing, level)
    return held.lock_key


def announce_threshold(scope: Scope, balance: Balance, standing: Standing, level: int) -> None:
    """Emit `entitlement.threshold_reached` (80% used) or `entitlement.exhausted` (100%) when
    the balance just crossed that level this period (once each; a correction that drops
    below re-arms it). Rare, so its two extra reads stay off the common path."""
    if level <= balance.threshold_sent:
        return
    customer = Customer.objects.only("external_id").get(pk=balance.customer_id)
    feature = Feature.objects.only("slug").get(pk=balance.feature_id)
    emit_event(
        scope=scope,
        type="entitlement.exhausted" if level >= 100 else "entitlement.threshold_reached",
        data={
            "customerId": customer.id, "externalId": customer.external_id,
            "feature": feature.slug, "entityId": balance.entity_key or None,
            "threshold": level, "granted": usage_number(standing.granted),
            "usage": usage_number(standing.usage), "balance": usage_number(standing.left),
            "periodStart": balance.period_start, "periodEnd": balance.period_end,
        },
    )

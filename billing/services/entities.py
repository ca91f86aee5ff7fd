"""Entities: seats, workspaces, users of a customer (API.md, Entities).

Creating one counts one unit of its feature (e.g. `seats`) and is refused with 402
LIMIT_EXCEEDED when none is left and overage is not allowed; deleting it gives the unit back.
Features granted per entity give each live entity its own balance.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from billing.models import Balance, BalanceGrant, Entity, Feature, UsageEvent
from billing.selectors.customers import customer_find
from billing.services.balances import balance_apply_grants, balance_settle
from billing.services.spend_caps import metered_feature
from billing.services.usage import record_usage, standing_of
from cynco import clock
from cynco.errors import Conflict, LimitExceeded, NotFound
from cynco.locks import lock_customer
from cynco.tenancy import Scope

ONE = Decimal(1)


def entity_create(
    *, scope: Scope, customer: str, entity_key: str, feature: str, name: str | None = None,
    metadata: dict | None = None,
) -> Entity:
    """Add entity `entity_key` counting one unit of `feature`, with its own balances of every
    per-entity feature the customer holds. Takes lock_customer; no ledger entry.
    Raises CustomerNotFound, FeatureNotFound, Conflict (id in use), LimitExceeded (402)."""
    found = customer_find(scope, customer)
    counted = metered_feature(scope, feature, field="featureId")
    at = clock.now(scope)
    with transaction.atomic():
        lock_customer(found.id)
        if Entity.objects.filter(customer=found, entity_key=entity_key,
                                 deleted_at__isnull=True).exists():
            raise Conflict(f"Entity '{entity_key}' already exists for this customer")
        balance = Balance.objects.filter(customer=found, feature=counted, entity_key="").first()
        if balance is not None:
            balance = balance_settle(balance, at)
        standing = standing_of(balance)
        if balance is None or not standing.may_use(ONE):
            raise LimitExceeded(f"No {counted.slug} left for another entity")
        record_usage(scope, balance, standing, ONE, at, source=UsageEvent.Source.ENTITY,
                     entity_key=entity_key)
        entity = Entity.objects.create(
            merchant_id=scope.merchant_id, environment=scope.environment, customer=found,
            feature=counted, entity_key=entity_key, name=name, metadata=metadata,
            created_at=at,
        )
        per_entity = Feature.objects.filter(
            id__in=BalanceGrant.objects.filter(customer=found, per_entity=True, active=True)
            .values("feature_id")
        )
        for each in per_entity:
            balance_apply_grants(customer=found, feature=each, entity_key=entity_key, at=at)
    return entity


def entity_delete(*, scope: Scope, customer: str, entity_key: str) -> Entity:
    """Remove entity `entity_key`: its unit of the counted feature is given back and its own
    balances go. Takes lock_customer; no ledger entry. Raises NotFound."""
    found = customer_find(scope, customer)
    at = clock.now(scope)
    with transaction.atomic():
        lock_customer(found.id)
        entity = Entity.objects.filter(customer=found, entity_key=entity_key,
                                       deleted_at__isnull=True).first()
        if entity is None:
            raise NotFound(f"No entity '{entity_key}'")
        balance = Balance.objects.filter(
            customer=found, feature_id=entity.feature_id, entity_key=""
        ).first()
        if balance is not None:
            balance = balance_settle(balance, at)
            standing = standing_of(balance)
            back = min(ONE, standing.used)
            if back > 0:
                record_usage(scope, balance, standing, -back, at,
                             source=UsageEvent.Source.ENTITY, entity_key=entity_key)
        Balance.objects.filter(customer=found, entity_key=entity_key).delete()
        entity.deleted_at = at
        entity.save(update_fields=["deleted_at"])
    return entity

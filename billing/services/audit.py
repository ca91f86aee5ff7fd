"""The audit trail's one write: `audit_record`, called by every mutating service.

Issue 8 asks that each mutating service write its audit row "in its own transaction". We read
that as *the service's own transaction*, not a separate one: `audit_record` joins the caller's
transaction, so the row commits together with the change it describes or not at all. A change
without its audit row, or an audit row for a change that was rolled back, cannot exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from billing.models import AuditEvent
from cynco import clock
from cynco.tenancy import Scope


@dataclass(frozen=True)
class Actor:
    """Who caused a change: an API key (`api`), the server itself (`system`) or a periodic job
    (`cron`). Views build it with `Actor.api(request.auth.id)`; tasks use `SYSTEM` or `CRON`."""

    type: str
    key_id: str | None = None

    @classmethod
    def api(cls, key_id: str) -> "Actor":
        return cls(AuditEvent.ActorType.API, key_id)


SYSTEM = Actor(AuditEvent.ActorType.SYSTEM)
CRON = Actor(AuditEvent.ActorType.CRON)


def audit_record(
    *,
    scope: Scope,
    event: str,
    actor: Actor,
    customer_id: str | None = None,
    subscription_id: str | None = None,
    resource_type: str | None = None,
    resource_id: str | None = None,
    details: dict | None = None,
) -> AuditEvent:
    """Write one audit row in the caller's transaction (takes no lock, posts no ledger entry).

    `event` names what happened (`subscription.canceled`, `api_key.created`, …);
    `customer_id` is the customer's id (`pcm_…`, `customerMapId` on the wire) and
    `subscription_id` the subscription's (`psub_…`), both kept as plain strings; `resource_type`
    and `resource_id` name the row changed; `details` is a JSON object (never secrets).
    `createdAt` is the scope's business time.
    """
    with transaction.atomic():
        return AuditEvent.objects.create(
            merchant_id=scope.merchant_id,
            environment=scope.environment,
            event=event,
            actor_type=actor.type,
            actor_key_id=actor.key_id,
            customer_id=customer_id,
            subscription_id=subscription_id,
            resource_type=resource_type,
            resource_id=resource_id,
            details=details or {},
            created_at=clock.now(scope),
        )


def audit_records(*, scope: Scope, actor: Actor, records: list[dict]) -> list[AuditEvent]:
    """`audit_record` for many rows at once (a batch job), in one insert in the caller's
    transaction; each of `records` holds audit_record's keyword arguments but scope/actor."""
    created = clock.now(scope)
    rows = [
        AuditEvent(merchant_id=scope.merchant_id, environment=scope.environment,
                   actor_type=actor.type, actor_key_id=actor.key_id, created_at=created,
                   **{**record, "details": record.get("details") or {}})
        for record in records
    ]
    return AuditEvent.objects.bulk_create(rows)

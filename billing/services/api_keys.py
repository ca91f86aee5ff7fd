"""API keys as merchants manage them through `/api-keys`: cynco's key services plus the audit row.

cynco owns keys but may not import billing, so the audited versions live here.
"""

from __future__ import annotations

from django.db import transaction

from billing.services.audit import Actor, audit_record
from cynco import merchants
from cynco.errors import NotFound
from cynco.models import ApiKey
from cynco.tenancy import Scope


def api_key_issue(
    *,
    scope: Scope,
    key_scope: Scope,
    name: str,
    key_type: str,
    scopes: list[str] | None,
    actor: Actor,
) -> tuple[ApiKey, str]:
    """Create a key in `key_scope` (the caller's environment, or test from live) and audit it in
    the caller's `scope` (`api_key.created`). Returns the row and the raw key, shown once.
    One transaction; no customer lock, no ledger entry."""
    with transaction.atomic():
        key, raw = merchants.api_key_create(
            scope=key_scope, name=name, key_type=key_type, scopes=scopes
        )
        audit_record(
            scope=scope,
            event="api_key.created",
            actor=actor,
            resource_type="api_key",
            resource_id=key.id,
            details={
                "name": key.name,
                "type": key.type,
                "environment": key.environment,
                "keyPrefix": key.key_prefix,
                "scopes": key.scopes,
            },
        )
    return key, raw


def api_key_withdraw(*, scope: Scope, key_id: str, actor: Actor) -> ApiKey:
    """Revoke a key of `scope` (404 otherwise) and audit it (`api_key.revoked`); it fails on its
    next request. Locks the key row; no ledger entry. Revoking twice keeps the first time and
    audits only the first."""
    with transaction.atomic():
        before = ApiKey.objects.for_scope(scope).select_for_update().filter(pk=key_id).first()
        if before is None:
            raise NotFound("API key not found")
        key = merchants.api_key_revoke(merchant_id=scope.merchant_id, key_id=key_id)
        if before.revoked_at is not None:
            return key  # revoked earlier; already audited then
        audit_record(
            scope=scope,
            event="api_key.revoked",
            actor=actor,
            resource_type="api_key",
            resource_id=key.id,
            details={"name": key.name, "type": key.type, "keyPrefix": key.key_prefix},
        )
    return key

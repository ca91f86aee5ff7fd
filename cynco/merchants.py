"""Services for merchants and their API keys (HackSoft style: keyword-only, one transaction)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from cynco.clock import wall_now
from cynco.errors import NotFound, ValidationFailed
from cynco.keys import VISIBLE_PREFIX_LENGTH, generate_raw_key, hash_key
from cynco.models import ApiKey, Environment, Merchant
from cynco.tenancy import Scope


def merchant_create(*, name: str) -> tuple[Merchant, dict[str, str]]:
    """Create a merchant with its four keys (secret/publishable × live/test).

    Returns the merchant and the raw keys, which exist nowhere else after this call. Apps that
    keep per-merchant setup (the ledger's chart of accounts) are called through
    settings.MERCHANT_SETUP_HOOKS in the same transaction, so cynco imports none of them.
    """
    with transaction.atomic():
        merchant = Merchant.objects.create(name=name)
        raw_keys = {}
        for environment in (Environment.LIVE, Environment.TEST):
            for key_type in (ApiKey.Type.SECRET, ApiKey.Type.PUBLISHABLE):
                _, raw = api_key_create(
                    scope=Scope(merchant.id, environment),
                    name=f"Default {key_type} key",
                    key_type=key_type,
                )
                raw_keys[f"{key_type}_{environment}"] = raw
        for hook in getattr(settings, "MERCHANT_SETUP_HOOKS", []):
            for environment in (Environment.LIVE, Environment.TEST):
                import_string(hook)(merchant_id=merchant.id, environment=environment)
    return merchant, raw_keys


def api_key_create(
    *, scope: Scope, name: str, key_type: str, scopes: list[str] | None = None
) -> tuple[ApiKey, str]:
    """A new key for `scope`. Returns the row and the raw key, shown to its owner once."""
    scopes = sorted(set(scopes or []))
    if key_type == ApiKey.Type.SECRET and scopes:
        raise ValidationFailed.field("scopes", "Only publishable keys take scopes")
    unknown = [s for s in scopes if s not in ApiKey.PUBLISHABLE_SCOPES]
    if unknown:
        raise ValidationFailed.field("scopes", f"Unknown scope(s): {', '.join(unknown)}")
    raw = generate_raw_key(key_type=key_type, environment=scope.environment)
    key = ApiKey.objects.create(
        merchant_id=scope.merchant_id,
        environment=scope.environment,
        name=name,
        type=key_type,
        key_prefix=raw[:VISIBLE_PREFIX_LENGTH],
        key_hash=hash_key(raw),
        scopes=scopes,
    )
    return key, raw


def api_key_revoke(*, merchant_id: str, key_id: str) -> ApiKey:
    """Revoke one of the merchant's keys (either environment); it fails on its next request."""
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().filter(merchant_id=merchant_id, pk=key_id).first()
        if key is None:
            raise NotFound("API key not found")
        if key.revoked_at is None:
            key.revoked_at = wall_now()
            key.save(update_fields=["revoked_at"])
    return key

"""`Idempotency-Key` for every mutating endpoint (API.md, Idempotency).

A key is claimed by inserting an `in_progress` record in its own, committed transaction. Then:

* same key, same request, first one finished → the stored status and body, nothing re-run;
* same key, different request → 422 IDEMPOTENCY_KEY_REUSED;
* same key while the first is still running → 409 IDEMPOTENCY_IN_PROGRESS; "running" means
  its process holds the key's owner lock (cynco.idempotency_owner), so the key of a request
  whose process died is free again at once.

For most views the handler runs inside one transaction with the write of its stored response,
so "did the work" and "remembered the answer" commit together: a crash in between leaves
neither, and the dead request's claim is taken over by the next retry. Views that must commit before a
gateway call (DESIGN.md: no gateway call under a lock) set `idempotency_atomic = False` and
rely on their own idempotency (payment attempts carry keys derived from this one).

Answers that say "try again" (409, 429, 5xx) are not stored: the claim is dropped instead.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction

from cynco.clock import wall_now
from cynco.errors import IdempotencyInProgress, IdempotencyKeyReused, ValidationFailed
from cynco.idempotency_owner import OwnerLock, owner_lock_key
from cynco.models import IdempotencyRecord
from cynco.tenancy import Scope

HEADER = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = 255
# Visible ASCII, spaces only inside (an HTTP server trims them at either end). Also the
# header's `pattern` in the OpenAPI document.
KEY_PATTERN = r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$"
KEY_FORMAT = re.compile(KEY_PATTERN)
MUTATING_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
RETRYABLE_STATUSES = {409, 429}


@dataclass
class StoredResponse:
    status_code: int
    body: bytes


def request_fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """A hash of what the request asks for; JSON bodies are compared by content, not spacing."""
    try:
        parsed = json.loads(body or b"null", parse_float=Decimal)
        canonical = json.dumps(parsed, sort_keys=True, separators=(",", ":"), default=str).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode(), canonical):
        digest.update(part + b"\x00")
    return digest.hexdigest()


def redact(body: bytes, fields: tuple[str, ...]) -> bytes:
    """`body` with `data.<field>` set to null for each of `fields` (secrets are never stored)."""
    if not fields:
        return body
    document = json.loads(body)
    data = document.get("data")
    if isinstance(data, dict):
        for field in fields:
            if field in data:
                data[field] = None
    return json.dumps(document, separators=(",", ":")).encode()


def key_from(request) -> str | None:
    """The request's Idempotency-Key, or None; a key that is too long or blank is a 422."""
    raw = request.META.get(HEADER)
    if raw is None or request.method not in MUTATING_METHODS:
        return None
    if len(raw) > MAX_KEY_LENGTH or not KEY_FORMAT.fullmatch(raw):
        raise ValidationFailed.field(
            "Idempotency-Key", f"must be 1 to {MAX_KEY_LENGTH} visible ASCII characters"
        )
    return raw


def claim(*, scope: Scope, key: str, fingerprint: str) -> tuple[StoredResponse | None,
                                                                OwnerLock | None]:
    """Claim `key` for this request: (the stored response, None) when this is a replay;
    (None, the owner lock) when we may run, holding the lock until `release`. Raises when the
    key belongs to another request (422) or to one still running (409).

    A record left `in_progress` whose owner lock is free belongs to a request that died (its
    work was rolled back, or is resumed by its own idempotency): the retry takes it over at once.
    """
    record = IdempotencyRecord.objects.for_scope(scope).filter(key=key).first()
    if record is not None and record.state == IdempotencyRecord.State.COMPLETED:
        return _replay(record, fingerprint), None
    lock = OwnerLock(owner_lock_key(scope.merchant_id, scope.environment, key))
    if not lock.try_acquire():
        if record is not None and record.fingerprint != fingerprint:
            raise IdempotencyKeyReused()
        raise IdempotencyInProgress()
    try:
        record, created = _insert_claim(scope=scope, key=key, fingerprint=fingerprint)
        if created:
            return None, lock
        if record.fingerprint != fingerprint or record.state == IdempotencyRecord.State.COMPLETED:
            lock.release()
            return _replay(record, fingerprint), None
        IdempotencyRecord.objects.filter(pk=record.pk).update(updated_at=wall_now())
        return None, lock  # the first attempt died without finishing
    except BaseException:
        lock.release()
        raise


def _replay(record: IdempotencyRecord, fingerprint: str) -> StoredResponse:
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    return StoredResponse(record.status_code, bytes(record.response_body))


def _insert_claim(*, scope: Scope, key: str, fingerprint: str):
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                merchant_id=scope.merchant_id,
                environment=scope.environment,
                key=key,
                fingerprint=fingerprint,
            )
        return record, True
    except IntegrityError:
        return IdempotencyRecord.objects.for_scope(scope).get(key=key), False


def complete(*, scope: Scope, key: str, status_code: int, body: bytes) -> None:
    """Remember the answer of a claimed key, or let go of the claim if the answer is transient."""
    records = IdempotencyRecord.objects.for_scope(scope).filter(key=key)
    if status_code >= 500 or status_code in RETRYABLE_STATUSES:
        records.filter(state=IdempotencyRecord.State.IN_PROGRESS).delete()
        return
    records.update(
        state=IdempotencyRecord.State.COMPLETED, status_code=status_code, response_body=body
    )


def release(*, scope: Scope, key: str) -> None:
    """Drop an unfinished claim (the request failed and its transaction rolled back)."""
    IdempotencyRecord.objects.for_scope(scope).filter(
        key=key, state=IdempotencyRecord.State.IN_PROGRESS
    ).delete()


def purge_expired() -> int:
    """Delete records older than the retention period (beat task). Returns how many."""
    cutoff = wall_now() - timedelta(hours=settings.IDEMPOTENCY_RETENTION_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted

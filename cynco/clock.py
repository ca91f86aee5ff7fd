"""Business time. Nothing else in the project calls `timezone.now()` for business decisions.

Live environments run on the wall clock. A merchant's test environment runs on the wall clock
plus an offset that `POST /api/v1/pay/test/clock/advance` moves forward, so renewals, trials and
lock expiries can be exercised without waiting.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cynco.models import EnvironmentClock
from cynco.tenancy import Scope


def wall_now() -> datetime:
    """The real time, UTC. Used for things that are not business time (key last-used stamps)."""
    return timezone.now()


def offset_of(scope: Scope) -> timedelta:
    """How far `scope`'s clock runs ahead of the wall clock (always zero in live)."""
    if not scope.is_test:
        return timedelta(0)
    seconds = (
        EnvironmentClock.objects.for_scope(scope).values_list("offset_seconds", flat=True).first()
    )
    return timedelta(seconds=seconds or 0)


def now(scope: Scope) -> datetime:
    """The business time of `scope`."""
    return wall_now() + offset_of(scope)


def advance(*, scope: Scope, seconds: int) -> datetime:
    """Move a test environment's clock forward by `seconds` (> 0) and return its new time.

    Takes no customer lock; the offset row is updated in place so concurrent advances add up.
    """
    if not scope.is_test:
        raise ValueError("only a test environment's clock can be moved")
    if seconds <= 0:
        raise ValueError("the clock only moves forward")
    with transaction.atomic():
        clock, _ = EnvironmentClock.objects.get_or_create(
            merchant_id=scope.merchant_id, environment=scope.environment
        )
        EnvironmentClock.objects.filter(pk=clock.pk).update(
            offset_seconds=F("offset_seconds") + seconds
        )
    return now(scope)

"""When a failed webhook delivery is tried again, and when it is given up. Pure, no Django.

After attempt n fails the next one waits `min(BASE × 2^(n-1), CAP)` stretched by a random factor
in [1 - JITTER, 1 + JITTER], so endpoints that fail together do not get retried together:
about 1, 2, 4, 8, 16, 32, 64 minutes, then every 2 hours. A delivery is given up only when an
attempt fails after its retry window (24 hours by default) has run out, so it is retried for at
least the whole window (≈ 18 attempts in 24 hours).
"""

from __future__ import annotations

from datetime import datetime, timedelta

BASE_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=2)
JITTER = 0.2


def retry_delay(attempts_made: int, *, random_fraction: float) -> timedelta:
    """How long to wait after the `attempts_made`-th failed attempt (1 = the first).

    `random_fraction` is a number in [0, 1) (e.g. `random.random()`), passed in for testability.
    """
    if attempts_made < 1:
        raise ValueError("attempts_made starts at 1")
    exponent = min(attempts_made - 1, 30)  # 2**30 minutes is far past the cap already
    capped = min(BASE_DELAY * (2**exponent), MAX_DELAY)
    factor = 1 - JITTER + 2 * JITTER * random_fraction
    return capped * factor


def gives_up(*, retry_from: datetime, failed_at: datetime, window: timedelta) -> bool:
    """Whether a delivery whose attempt failed at `failed_at` is now marked failed for good."""
    return failed_at - retry_from >= window

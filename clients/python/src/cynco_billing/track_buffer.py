"""Tracks sent in the background, in batches (`POST /track/batch`), flushed by size and time.

    with TrackBuffer(billing, max_events=1000, max_seconds=1.0) as buffer:
        buffer.track("user_123", "messages")          # returns at once
    # leaving the block flushes what is left

For the sync client (`CyncoBilling`), from any number of threads. Each event gets an
idempotency key when it is queued, so a batch that is sent again after a failure never counts
an event twice. Results come to `on_result(event, item)` (a `TrackBatchItem`: accepted,
duplicate, denied or error); a failed send to `on_error(exception, events)`, and those events
stay queued, first in line, for the next flush.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from cynco_billing._transport import new_idempotency_key
from cynco_billing.inputs import Number, TrackEvent
from cynco_billing.models import TrackBatchItem

logger = logging.getLogger("cynco_billing")

MAX_EVENTS = 1000  # the server's limit per batch


def _log_error(error: Exception, events: list[TrackEvent]) -> None:
    logger.warning("track batch of %d events not sent (will retry): %s", len(events), error)


class TrackBuffer:
    """Queues tracks and sends them with `billing.track_batch` when `max_events` are queued,
    every `max_seconds`, on `flush()` and on `close()`."""

    def __init__(
        self, billing: Any, *, max_events: int = MAX_EVENTS, max_seconds: float = 1.0,
        on_result: Callable[[TrackEvent, TrackBatchItem], None] | None = None,
        on_error: Callable[[Exception, list[TrackEvent]], None] = _log_error,
    ):
        if not 0 < max_events <= MAX_EVENTS:
            raise ValueError(f"max_events must be 1..{MAX_EVENTS}")
        self.billing = billing
        self.max_events = max_events
        self.max_seconds = max_seconds
        self.on_result = on_result
        self.on_error = on_error
        self._queue: list[TrackEvent] = []
        self._queue_lock = threading.Lock()
        self._send_lock = threading.Lock()  # one batch in flight: events keep their order
        self._closed = threading.Event()
        self._timer = threading.Thread(target=self._flush_on_time, name="cynco-track-buffer",
                                       daemon=True)
        self._timer.start()

    def track(
        self, customer: str, feature: str, *, amount: Number | None = None,
        entity_id: str | None = None, idempotency_key: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        """Queue one track (the arguments of `CyncoBilling.track`); sends a batch when
        `max_events` are queued."""
        if self._closed.is_set():
            raise RuntimeError("this TrackBuffer is closed")
        event = TrackEvent(customer=customer, feature=feature, amount=amount,
                           entity_id=entity_id,
                           idempotency_key=idempotency_key or new_idempotency_key(),
                           metadata=dict(metadata) if metadata is not None else None)
        with self._queue_lock:
            self._queue.append(event)
            full = len(self._queue) >= self.max_events
        if full:
            self.flush()

    def flush(self) -> bool:
        """Send everything queued, in batches of at most `max_events`; False when a batch
        failed (its events stay queued)."""
        with self._send_lock:
            while True:
                with self._queue_lock:
                    events = self._queue[:self.max_events]
                    del self._queue[:len(events)]
                if not events:
                    return True
                try:
                    result = self.billing.track_batch(events)
                except Exception as error:  # noqa: BLE001 - reported, and kept for a retry
                    with self._queue_lock:
                        self._queue[:0] = events
                    self.on_error(error, events)
                    return False
                if self.on_result is not None:
                    for item in result.results:
                        self.on_result(events[item.index], item)

    @property
    def pending(self) -> int:
        """Events queued and not yet sent."""
        with self._queue_lock:
            return len(self._queue)

    def close(self) -> bool:
        """Stop the timer and send what is left; False when some could not be sent."""
        self._closed.set()
        self._timer.join()
        return self.flush()

    def __enter__(self) -> TrackBuffer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _flush_on_time(self) -> None:
        while not self._closed.wait(self.max_seconds):
            if self.pending:
                self.flush()

"""Running work in real threads at the same moment, for concurrency tests."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connections


def race(attempts: list[Callable], refusals: tuple[type[Exception], ...] = ()) -> list:
    """Run each callable in its own thread, released together; their results in order.

    An exception of `refusals` becomes the result (so a test can count refusals); any other
    is returned as its repr, for the assertion to show. Each thread closes its connections.
    """
    outcomes: list = [None] * len(attempts)
    start = threading.Barrier(len(attempts))

    def run(index: int, attempt: Callable) -> None:
        try:
            start.wait()
            outcomes[index] = attempt()
        except refusals as refusal:
            outcomes[index] = refusal
        except Exception as exc:  # noqa: BLE001 - reported in the assertion
            outcomes[index] = repr(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes

"""Capturing log lines as the server writes them, for tests of what logs contain."""

from __future__ import annotations

import io
import json
import logging
from contextlib import contextmanager

from cynco.log_format import JsonFormatter, RequestContextFilter
from tests.log_audit import unscrubbed_formatter


@contextmanager
def captured_logs(*, scrubbed: bool = True):
    """Every record of every logger at INFO and above while the block runs, as the JSON lines
    of the production formatter (`scrubbed`), or of the same format before any scrubbing.
    Yields a list that holds the text once the block has ended."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if scrubbed else unscrubbed_formatter())
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    text: list[str] = []
    try:
        yield text
    finally:
        root.removeHandler(handler)
        text.append(stream.getvalue())


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]

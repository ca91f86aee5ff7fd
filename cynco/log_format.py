"""How log lines look (LOG_FORMAT): one JSON object per line by default, or plain text.

Every record carries the id of the request (or Celery task) it was written under, from
`log_context`, so an error logged deep inside a service can be matched to its request line and
to the `X-Request-Id` the caller saw. Every finished line passes through
`cynco.log_redaction.scrub`, tracebacks included.
"""

from __future__ import annotations

import contextvars
import logging
from datetime import datetime, timezone

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from cynco.log_redaction import scrub

# The request (or task) being served by this thread or task; None outside both.
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "cynco_request_id", default=None
)
task: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "cynco_task", default=None
)


class RequestContextFilter(logging.Filter):
    """Adds `request_id` (and `task_id`, `task` inside a Celery task) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # Django logs a 5xx after the middleware has finished, with the request attached.
            request = getattr(record, "request", None)
            record.request_id = request_id.get() or getattr(request, "request_id", None)
        running = task.get()
        if running is not None and not hasattr(record, "task_id"):
            record.task_id, record.task = running
        return True


class JsonFormatter(_JsonFormatter):
    """`{"ts", "level", "logger", "msg", "request_id", …extra fields}`, scrubbed."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger",
                                            "message": "msg", "asctime": "ts"})
        kwargs.setdefault("timestamp", False)
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s", *args, **kwargs)

    def formatTime(self, record, datefmt=None):  # noqa: N802 - logging's name
        # ISO-8601 UTC with milliseconds, e.g. 2026-11-02T10:20:30.123Z.
        moment = datetime.fromtimestamp(record.created, tz=timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    def process_log_record(self, log_data):
        # Context fields that are unset say nothing: leave them out of the line. Django's
        # `request` object would print its query string: the request id stands for it.
        log_data.pop("request", None)
        for name in ("request_id", "task_id", "task"):
            if log_data.get(name) is None:
                log_data.pop(name, None)
        return log_data

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


_PLAIN_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "request_id", "task_id", "task", "context", "request"}


class TextFormatter(logging.Formatter):
    """`time level logger [request id] message key=value…` for people at a terminal; the
    key=value pairs are the record's extra fields (a request line's route, status, …)."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        request = getattr(record, "request_id", None)
        record.context = f" [{request}]" if request else ""
        line = super().format(record)
        extra = {key: value for key, value in vars(record).items()
                 if key not in _PLAIN_ATTRIBUTES and value is not None}
        if extra:
            line += " " + " ".join(f"{key}={value}" for key, value in extra.items())
        return scrub(line)

"""gunicorn settings of the web server (`-c python:cynco.gunicorn_conf`; scripts/run.py uses it).

Requests gunicorn refuses before Django sees them — a request line over `limit_request_line`
bytes, a header over `limit_request_field_size`, a malformed request — get gunicorn's own HTML
page; here they get the API's JSON error envelope instead, with gunicorn's status (400, 431,
501…) and message. A front proxy with smaller limits answers before gunicorn does: keep its
limits at or above these (docs/reliability.md).
"""

from __future__ import annotations

import json

from gunicorn import util

# gunicorn's defaults, stated so the proxy in front can be set to match.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

CODES = {500: "INTERNAL_ERROR", 501: "NOT_IMPLEMENTED", 403: "FORBIDDEN"}


def write_json_error(sock, status_int, reason, mesg):
    """gunicorn.util.write_error, answering the envelope instead of an HTML page."""
    code = CODES.get(status_int, "BAD_REQUEST")
    message = mesg or reason
    body = json.dumps({"success": False, "error": {"code": code, "message": message,
                                                   "details": []}}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    util.write_nonblock(sock, head.encode("latin1") + body)


def post_worker_init(worker):
    # Workers look `util.write_error` up when they answer an error, so this reaches them all.
    util.write_error = write_json_error

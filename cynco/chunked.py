"""Request bodies sent with `Transfer-Encoding: chunked` (no `Content-Length`).

Django reads exactly `Content-Length` bytes of a body, so a chunked body would reach the views
as empty. This WSGI middleware (cynco.wsgi) reads it first — at most API_MAX_BODY_BYTES, the
same bound as any other body — and hands it on with its length; a larger one is 413
PAYLOAD_TOO_LARGE in the envelope.
"""

from __future__ import annotations

import io
import json

from django.conf import settings

from cynco.errors import PayloadTooLarge, error_body


class ChunkedBodies:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH"):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            body = environ["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                return _too_large(limit, start_response)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)


def _too_large(limit: int, start_response):
    error = PayloadTooLarge(f"The request body is larger than {limit} bytes")
    content = json.dumps(error_body(error.code, error.message)).encode()
    start_response(f"{error.status} Request Entity Too Large", [
        ("Content-Type", "application/json"), ("Content-Length", str(len(content))),
        ("Connection", "close"),
    ])
    return [content]

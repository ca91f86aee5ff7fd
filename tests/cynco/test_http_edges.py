"""What a real gunicorn server answers to requests at the edges of HTTP: chunked bodies, an
oversized request line or header. Every answer is the JSON envelope, never an HTML page."""

from __future__ import annotations

import http.client
import json
import socket
from urllib.parse import urlsplit

import pytest

from tests.factories import make_merchant
from tests.live_gunicorn import start_gunicorn

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server():
    running = start_gunicorn()
    yield running
    running.stop()


def _connection(server) -> http.client.HTTPConnection:
    parts = urlsplit(server.url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)


def _chunked(server, key: str, method: str, path: str, body: bytes):
    conn = _connection(server)

    def chunks():
        for start in range(0, len(body), 64 * 1024):
            yield body[start:start + 64 * 1024]

    conn.request(method, path, body=chunks(), encode_chunked=True, headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json",
        "Transfer-Encoding": "chunked"})
    response = conn.getresponse()
    return response.status, response.getheader("Content-Type"), response.read()


def _raw(server, data: bytes) -> tuple[int, str, bytes]:
    parts = urlsplit(server.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    content_type = next((line.split(b":", 1)[1].strip().decode()
                         for line in head.split(b"\r\n") if line.lower().startswith(
                             b"content-type:")), "")
    return status, content_type, body


def test_a_chunked_body_is_read(server):
    keys = make_merchant()
    body = json.dumps({"customerId": "chunky", "metadata": {"pad": "x" * 200_000}}).encode()
    status, content_type, content = _chunked(server, keys.secret_test, "POST",
                                             "/api/v1/pay/customers", body)
    assert status == 201, content[:300]
    assert json.loads(content)["data"]["externalId"] == "chunky"


def test_a_chunked_body_over_the_limit_is_413_in_the_envelope(server):
    keys = make_merchant()
    body = json.dumps({"customerId": "huge", "metadata": {"pad": "x" * 2_000_000}}).encode()
    status, content_type, content = _chunked(server, keys.secret_test, "PUT",
                                             "/api/v1/pay/customers", body)
    assert status == 413
    assert content_type == "application/json"
    assert json.loads(content)["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_a_request_line_over_gunicorns_limit_is_answered_in_json(server):
    path = "/api/v1/pay/customers?id=" + "a" * 5000
    status, content_type, content = _raw(
        server, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert status == 400
    assert content_type == "application/json"
    error = json.loads(content)["error"]
    assert error["code"] == "BAD_REQUEST" and set(error) == {"code", "message", "details"}


def test_a_header_over_gunicorns_limit_is_answered_in_json(server):
    status, content_type, content = _raw(
        server, b"GET /api/v1/pay/customers HTTP/1.1\r\nHost: x\r\nX-Big: "
        + b"b" * 9000 + b"\r\n\r\n")
    assert status in (400, 431)
    assert content_type == "application/json"
    assert json.loads(content)["success"] is False

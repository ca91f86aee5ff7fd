"""A real HTTP endpoint for webhook tests: records every POST's raw bytes and headers.

It answers with the statuses it is given, in order (then 200), optionally after a delay, and
can run a callback while a request is in flight (to look at the database meanwhile).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    default_status: int = 200
    delay: float = 0.0
    answer: bytes = b'{"ok":true}'
    extra_headers: dict[str, str] = field(default_factory=dict)
    during_request: object = None  # callable(Received) run before answering
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else self.default_status

    def record(self, item: Received) -> None:
        with self.lock:
            self.received.append(item)

    def bodies_by_event(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for item in self.received:
            event_id = item.headers.get("X-Cynco-Event-Id")
            counts[event_id] = counts.get(event_id, 0) + 1
        return counts


def start_receiver() -> tuple[Receiver, ThreadingHTTPServer]:
    receiver: Receiver | None = None

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            item = Received(self.path, dict(self.headers.items()), self.rfile.read(length))
            receiver.record(item)
            if receiver.during_request is not None:
                receiver.during_request(item)
            if receiver.delay:
                time.sleep(receiver.delay)
            status = receiver.next_status()
            self.send_response(status)
            for name, value in receiver.extra_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(receiver.answer)))
            self.end_headers()
            try:
                self.wfile.write(receiver.answer)
            except OSError:
                pass  # the sender gave up (timeout test)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/cynco")
    serve = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    serve.daemon = True
    serve.start()
    return receiver, server

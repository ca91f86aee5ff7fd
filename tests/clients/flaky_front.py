"""A small real HTTP server in front of the real one that misbehaves on cue.

Each request takes the next of its `plays` (then `forward` for good):

- an int status (429, 503, 409, …): answer that at once, with `headers`, without forwarding;
- "drop": close the connection without answering (a network error for the client);
- "lose_answer": forward the request, then close the connection instead of answering (the
  server did the work, the client never hears of it);
- "forward": pass it on and return the server's answer.

Every request's method, path and headers are recorded in `seen`.
"""

from __future__ import annotations

import http.client
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FlakyFront:
    upstream: str
    plays: list = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    def next_play(self):
        with _lock:
            return self.plays.pop(0) if self.plays else "forward"


_lock = threading.Lock()


def start_front(upstream: str) -> tuple[FlakyFront, ThreadingHTTPServer]:
    front = FlakyFront(upstream=upstream)
    target = urlsplit(upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            front.seen.append(Seen(self.command, self.path, dict(self.headers.items()), body))
            play = front.next_play()
            if play == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if isinstance(play, int):
                payload = json.dumps({"success": False, "error": {
                    "code": "RATE_LIMITED" if play == 429 else "UPSTREAM", "message":
                    f"front says {play}", "details": []}}).encode()
                self.send_response(play)
                for name, value in front.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            forwarded = {name: value for name, value in self.headers.items()
                         if name.lower() not in ("host", "connection")}
            upstream.request(self.command, self.path, body=body or None, headers=forwarded)
            answer = upstream.getresponse()
            content = answer.read()
            upstream.close()
            if play == "lose_answer":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in ("connection", "transfer-encoding", "content-length"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    front.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    return front, server

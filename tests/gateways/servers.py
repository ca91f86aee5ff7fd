"""Local servers that speak the providers' protocols, for the Stripe and CHIP gateway tests.

`localstripe` runs as its own process (started once per test session); the fake CHIP server
(`tests/gateways/fake_chip.py`) runs in a thread. `WebhookCatcher` is a tiny HTTP endpoint a
provider delivers its webhooks to, so a test can hand the exact signed bytes to our endpoint.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LAUNCHER = Path(__file__).with_name("localstripe_server.py")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, process: subprocess.Popen | None = None, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"localstripe exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout}s")


class LocalStripe:
    """localstripe in a child process on a free port; `stop()` ends that process only."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, str(LAUNCHER), "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        wait_for_port(self.port, process=self.process)

    def register_webhook(self, *, url: str, secret: str) -> None:
        import requests

        requests.post(f"{self.url}/_config/webhooks/cynco", data={"url": url, "secret": secret},
                      timeout=5).raise_for_status()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class WebhookCatcher:
    """Receives webhook POSTs and keeps (headers, raw body) of each."""

    def __init__(self):
        self.received: list[tuple[dict[str, str], bytes]] = []
        self._arrived = threading.Condition()
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with catcher._arrived:
                    catcher.received.append((dict(self.headers.items()), body))
                    catcher._arrived.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, predicate, timeout: float = 10.0) -> tuple[dict[str, str], bytes]:
        """The first delivery whose parsed body satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for headers, body in self.received:
                    if predicate(json.loads(body)):
                        return headers, body
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no matching webhook arrived")
                self._arrived.wait(left)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

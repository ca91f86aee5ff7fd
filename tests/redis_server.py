"""A real Redis for the tests that need one: a private `redis-server` on a Unix socket (no port
to collide on), else the one at REDIS_URL. Neither: the test fails saying so — never a skip."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis


@contextmanager
def redis_url() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        url = os.environ.get("REDIS_URL", "")
        if not url:
            pytest.fail("These tests need Redis: install redis-server or set REDIS_URL")
        try:
            redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        except redis.RedisError as exc:
            pytest.fail(f"REDIS_URL={url} does not answer: {exc}")
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="cynco-redis-") as folder:
        socket = Path(folder) / "redis.sock"
        server = subprocess.Popen(
            [binary, "--port", "0", "--unixsocket", str(socket), "--save", "",
             "--appendonly", "no", "--dir", folder],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            url = f"unix://{socket}"
            deadline = time.monotonic() + 10
            while True:
                try:
                    redis.Redis.from_url(url).ping()
                    break
                except redis.RedisError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"redis-server did not start (exit {server.poll()})")
                    time.sleep(0.05)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=10)

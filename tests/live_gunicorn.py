"""The web server as it runs in production — gunicorn with cynco.gunicorn_conf — started on a
free port against the test database, for tests that need a real server process (raw HTTP,
schemathesis, crash injection)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from django.conf import settings
from django.db import connection

LISTENING = re.compile(r"Listening at: http://([\d.]+):(\d+)")


def database_url() -> str:
    """The URL of the database this test process uses (the test database)."""
    params = connection.settings_dict
    user = params["USER"] or "postgres"
    password = f":{params['PASSWORD']}" if params["PASSWORD"] else ""
    return "postgres://{}{}@{}:{}/{}".format(user, password, params["HOST"] or "127.0.0.1",
                                             params["PORT"] or 5432, params["NAME"])


@dataclass
class Gunicorn:
    process: subprocess.Popen
    url: str
    log_path: Path
    env: dict = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def start_gunicorn(*, workers: int = 1, threads: int = 4, env: dict | None = None,
                   timeout: float = 60) -> Gunicorn:
    """gunicorn on 127.0.0.1, port chosen by the kernel; returns once /healthz answers."""
    log_path = Path(tempfile.mkstemp(prefix="cynco-gunicorn-", suffix=".log")[1])
    full_env = {**os.environ, "DATABASE_URL": database_url(),
                "DJANGO_SETTINGS_MODULE": "cynco.settings", "CELERY_TASK_ALWAYS_EAGER": "true",
                "RATE_LIMITS_ENABLED": "false", **(env or {})}
    full_env.pop("CYNCO_PREFER_LOCAL_DB", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "cynco.wsgi:application", "-c",
         "python:cynco.gunicorn_conf", "--bind", "127.0.0.1:0", "--workers", str(workers),
         "--threads", str(threads), "--graceful-timeout", "5"],
        cwd=settings.BASE_DIR, env=full_env, stdout=log_path.open("w"),
        stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout
    url = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({process.returncode}):\n{log_path.read_text()}")
        found = LISTENING.search(log_path.read_text(errors="replace"))
        if found:
            url = f"http://{found.group(1)}:{found.group(2)}"
            try:
                if requests.get(url + "/healthz", timeout=5).status_code == 200:
                    return Gunicorn(process, url, log_path, full_env)
            except requests.RequestException:
                pass
        time.sleep(0.2)
    server = Gunicorn(process, url or "", log_path, full_env)
    server.stop()
    raise RuntimeError(f"gunicorn did not answer /healthz in {timeout} s:\n{server.log()}")

"""The real server in a process of its own: gunicorn (2 workers) on a free port, against the
test database, as `make run` starts it; plus a small front server that fails on purpose.

`ServerProcess` binds a socket to port 0 here and hands it to gunicorn (`--bind fd://N`), so
the port is free by construction. The server reads the test database through its own
connections: data a test writes must be committed (tests use `transactional_db`). Its log goes
to a file, searched for key material at the end of the run (tests/log_audit.py).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parents[2]


def database_url(settings_dict: dict) -> str:
    """The URL of the database Django is connected to (the test database)."""
    user, password = settings_dict.get("USER") or "", settings_dict.get("PASSWORD") or ""
    host, port = settings_dict.get("HOST") or "", settings_dict.get("PORT") or ""
    credentials = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    location = quote(host, safe="") if host.startswith("/") else host
    if port:
        location += f":{port}"
    return f"postgres://{credentials}@{location}/{settings_dict['NAME']}"


class ServerProcess:
    def __init__(self, settings_dict: dict, *, workers: int = 2):
        self.folder = Path(tempfile.mkdtemp(prefix="cynco-server-"))
        self.metrics_dir = self.folder / "prometheus"
        self.metrics_dir.mkdir()
        self.log_path = self.folder / "server.log"
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        env = {name: value for name, value in os.environ.items()
               if not name.startswith(("PYTEST", "DJANGO_"))}
        env.update({
            "DJANGO_SETTINGS_MODULE": "cynco.settings",
            "DATABASE_URL": database_url(settings_dict),
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "PUBLIC_BASE_URL": self.url,
            "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir),
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
        })
        env.pop("CYNCO_PREFER_LOCAL_DB", None)
        command = [sys.executable, "-m", "gunicorn", "cynco.wsgi:application",
                   "--bind", f"fd://{self.listener.fileno()}", "--workers", str(workers),
                   "--threads", "4", "--graceful-timeout", "5", "--timeout", "120"]
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            pass_fds=(self.listener.fileno(),), start_new_session=True)

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited ({self.process.returncode}):\n"
                                   + self.log_path.read_text()[-3000:])
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the server did not answer /healthz:\n"
                           + self.log_path.read_text()[-3000:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        self.listener.close()
        self._log.close()
        shutil.rmtree(self.metrics_dir, ignore_errors=True)

"""`make run`: database, migrations, demo data, then web server + Celery worker and beat.

Uses DATABASE_URL when set, else starts the embedded PostgreSQL under var/pgdata and stops it on
exit. Ctrl-C (SIGINT) or SIGTERM stops everything this script started.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from cynco.database import VAR_DIR, resolve_database_url, resolve_migration_url  # noqa: E402

PYTHON = sys.executable
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = os.environ.get("PORT", "8000")


def say(message: str) -> None:
    print(f"[make run] {message}", flush=True)


def manage(*args: str, env: dict) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def start(name: str, command: list[str], env: dict) -> subprocess.Popen:
    say(f"starting {name}: {' '.join(command)}")
    return subprocess.Popen(command, cwd=BASE_DIR, env=env, start_new_session=True)


def stop_all(processes: dict[str, subprocess.Popen]) -> None:
    # Each server gets SIGTERM and shuts its own workers down (a warm shutdown); whatever of
    # its process group is left after the grace period is killed.
    for name, process in processes.items():
        if process.poll() is None:
            say(f"stopping {name}")
            process.terminate()
    deadline = time.monotonic() + 20
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def prepare_metrics_dir(env: dict) -> None:
    """Web and Celery workers keep their metrics in files here, which /metrics adds up
    (docs/operations.md). Emptied at each start: counters begin again from zero, as
    Prometheus expects of a restarted target."""
    folder = Path(env.get("PROMETHEUS_MULTIPROC_DIR") or VAR_DIR / "prometheus")
    say(f"metrics of all processes kept in {folder}")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def main() -> int:
    env = dict(os.environ)
    if env.get("DATABASE_URL"):
        say("using the database at DATABASE_URL")
    else:
        say(f"starting the embedded PostgreSQL (data in {VAR_DIR / 'pgdata'})")
    # This process holds the embedded server (if any) until it exits; children get its URL:
    # the application's least-privilege role, and for `migrate` only, the owner role's
    # (docs/deployment.md).
    env["DATABASE_URL"] = resolve_database_url()
    migration_env = {**env, "MIGRATION_DATABASE_URL": resolve_migration_url()}
    env.setdefault("DJANGO_SETTINGS_MODULE", "cynco.settings")
    # Links in checkout, portal and invoice pages point at where this server listens.
    env.setdefault("PUBLIC_BASE_URL", f"http://{HOST}:{PORT}")
    broker = env.get("CELERY_BROKER_URL") or env.get("REDIS_URL") or "a file broker under var/"
    for folder in ("celery/queue", "celery/processed"):
        (VAR_DIR / folder).mkdir(parents=True, exist_ok=True)
    prepare_metrics_dir(env)

    say("applying migrations (as the tables' owner role)")
    manage("migrate", "--no-input", env=migration_env)
    say("creating the demo merchant and catalog (idempotent)")
    manage("seed_demo", env=env)

    processes: dict[str, subprocess.Popen] = {}
    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        processes["web"] = start(
            "web server",
            [PYTHON, "-m", "gunicorn", "cynco.wsgi:application", "-c", "python:cynco.gunicorn_conf",
             "--bind", f"{HOST}:{PORT}",
             "--workers", env.get("WEB_WORKERS", "2"), "--threads", env.get("WEB_THREADS", "4")],
            env,
        )
        processes["worker"] = start(
            f"Celery worker with beat (broker: {broker})",
            [PYTHON, "-m", "celery", "-A", "cynco", "worker", "--beat", "--loglevel=INFO",
             "--concurrency", env.get("CELERY_CONCURRENCY", "2"),
             "--schedule", str(VAR_DIR / "celerybeat-schedule")],
            env,
        )
        say(f"serving on http://{HOST}:{PORT}  (API docs: /api/docs/, admin: /admin/)")
        say("press Ctrl-C to stop")
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    say(f"{name} exited with status {process.returncode}; stopping")
                    stopping = True
            time.sleep(0.5)
    finally:
        stop_all(processes)
        say("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

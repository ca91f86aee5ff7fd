"""scripts/smoke_run.sh (run by .ci/run) picks a free port itself and says why it fails."""

import socket
import subprocess

from django.conf import settings


def test_the_smoke_run_refuses_a_taken_port_and_says_so():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            ["bash", "scripts/smoke_run.sh"], cwd=settings.BASE_DIR, capture_output=True,
            text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "SMOKE_PORT": str(port)})
    assert result.returncode == 1
    assert f"FAILED: port {port} is already in use" in result.stdout


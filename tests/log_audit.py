"""The whole test run's logs, searched for key material (tests/key_material.py) at its end.

Every record any logger writes at INFO and above while the suite runs goes to a file, in the
JSON format of production but *before* scrubbing (so a leak is found where it starts, not
hidden by cynco.log_redaction); so do the logs of the server processes tests start
(`also_scan`). When the run ends the files are searched: any find fails the run (exit status 1)
and is listed in the summary. tests/conftest.py wires this in.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from pythonjsonlogger.json import JsonFormatter

from cynco.log_format import RequestContextFilter
from tests.key_material import key_material

_files: list[Path] = []
_findings: list[str] = []
_scanned: list[Path] = []
_lines = [0]
_handler: logging.Handler | None = None


def unscrubbed_formatter() -> logging.Formatter:
    """The JSON lines of production (cynco.log_format), without the scrubbing."""
    return JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                         rename_fields={"levelname": "level", "name": "logger", "message": "msg"})


def start() -> None:
    global _handler
    if _handler is not None:
        return
    path = Path(tempfile.mkdtemp(prefix="cynco-test-logs-")) / "in-process.jsonl"
    _handler = logging.FileHandler(path, encoding="utf-8")
    _handler.setLevel(logging.INFO)
    _handler.setFormatter(unscrubbed_formatter())
    _handler.addFilter(RequestContextFilter())
    logging.getLogger().addHandler(_handler)
    _files.append(path)


def also_scan(path: Path) -> None:
    """Search `path` (a log file another process of this run writes) at the end too."""
    _files.append(Path(path))


def finish() -> int:
    """Search every file; the number of lines with key material (kept for `report`)."""
    if _handler is not None:
        logging.getLogger().removeHandler(_handler)
        _handler.close()
    for path in _files:
        if not path.exists():
            continue
        _scanned.append(path)
        with path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                _lines[0] += 1
                found = key_material(line)
                if found:
                    kinds = ", ".join(sorted({kind for kind, _ in found}))
                    _findings.append(f"{path}:{number}: {kinds}: {line.strip()[:400]}")
    if not _findings:  # kept for a look when something was found
        for path in _files:
            path.unlink(missing_ok=True)
            try:
                path.parent.rmdir()
            except OSError:
                pass
    return len(_findings)


def report(write_line) -> None:
    scanned = len(_scanned)
    if _findings:
        write_line(f"LOG AUDIT FAILED: key material in {len(_findings)} log line(s) of this run:")
        for finding in _findings[:50]:
            write_line("  " + finding)
    elif scanned:
        write_line(f"log audit: no key material in the {_lines[0]} log lines of this run "
                   f"({scanned} file(s))")

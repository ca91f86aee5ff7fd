"""Soak the plan-change races of issue 12: each race RACE_RUNS times (default 50).

Runs tests/billing/test_payment_races.py with RACE_RUNS and a random delay of up to
RACE_JITTER_MS (default 20) before each racing request, then prints per race: runs, what the
requests answered (how many times each combination), unbooked payments found (must be 0) and
other differences reconcile_ledger found. Exits non-zero if a run failed or anything was
unbooked. `make race-soak` runs it; the figures of the last soak are in docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    runs = os.environ.get("RACE_RUNS", "50")
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as report:
        env = {**os.environ, "RACE_RUNS": runs, "RACE_REPORT": report.name,
               "CYNCO_PREFER_LOCAL_DB": "1", "RATE_LIMITS_ENABLED": "false"}
        tests = subprocess.run(
            [sys.executable, "-m", "pytest", "tests/billing/test_payment_races.py", "-q",
             "-p", "no:randomly", "-p", "no:logging", *sys.argv[1:]],
            cwd=ROOT, env=env)
        rows = [json.loads(line) for line in Path(report.name).read_text().splitlines()
                if line.strip()]
    print(f"\nRace soak: RACE_RUNS={runs}, jitter up to "
          f"{os.environ.get('RACE_JITTER_MS', '20')} ms per request")
    print(f"{'race':58} {'runs':>5} {'unbooked':>8} {'other':>6}  outcomes")
    for row in rows:
        outcomes = ", ".join(f"{name} ×{count}" for name, count in sorted(
            row["outcomes"].items(), key=lambda item: -item[1]))
        print(f"{row['race']:58} {row['runs']:>5} {row['unbooked']:>8} "
              f"{row['problems'] - row['unbooked']:>6}  {outcomes}")
    total = sum(row["runs"] for row in rows)
    unbooked = sum(row["unbooked"] for row in rows)
    print(f"{'total':58} {total:>5} {unbooked:>8}")
    return 1 if tests.returncode or unbooked else 0


if __name__ == "__main__":
    sys.exit(main())

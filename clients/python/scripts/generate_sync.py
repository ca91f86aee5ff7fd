"""Writes the sync client (`src/cynco_billing/_sync/`) from the async one (`_async/`).

    python scripts/generate_sync.py          # rewrite _sync/
    python scripts/generate_sync.py --check  # exit 1 if _sync/ is not what _async/ gives

The sync code is the async code with `async`/`await` removed and a few names swapped
(unasync), so the two clients cannot drift apart. Needs `pip install unasync`.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

import unasync

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "cynco_billing"
REPLACEMENTS = {
    "AsyncCyncoBilling": "CyncoBilling",
    "AsyncClient": "Client",
    "aclose": "close",
    "anyio": "time",
    "_async": "_sync",
}
HEADER = "# Generated from _async/ by scripts/generate_sync.py: edit the async source instead.\n"


def generate(into: Path) -> list[Path]:
    """Write the sync modules under `into` (a copy of the package's layout)."""
    sources = sorted((PACKAGE / "_async").glob("*.py"))
    staging = Path(tempfile.mkdtemp())
    copies = []
    for source in sources:
        copy = staging / "_async" / source.name
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, copy)
        copies.append(str(copy))
    rule = unasync.Rule("/_async/", "/_sync/", additional_replacements=REPLACEMENTS)
    unasync.unasync_files(copies, rules=[rule])
    written = []
    for source in sources:
        generated = staging / "_sync" / source.name
        target = into / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        text = generated.read_text()
        target.write_text(HEADER + text if text.strip() else text)
        written.append(target)
    shutil.rmtree(staging)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    check = parser.parse_args().check
    if not check:
        for written in generate(PACKAGE / "_sync"):
            print(f"wrote {written.relative_to(PACKAGE.parent.parent)}")
        return 0
    fresh = Path(tempfile.mkdtemp())
    stale = [path.name for path in generate(fresh)
             if not filecmp.cmp(path, PACKAGE / "_sync" / path.name, shallow=False)
             if (PACKAGE / "_sync" / path.name).exists()]
    missing = [path.name for path in fresh.glob("*.py")
               if not (PACKAGE / "_sync" / path.name).exists()]
    shutil.rmtree(fresh)
    if stale or missing:
        print(f"_sync/ is out of date ({', '.join(stale + missing)}): "
              "run python scripts/generate_sync.py")
        return 1
    print("_sync/ matches _async/")
    return 0


if __name__ == "__main__":
    sys.exit(main())

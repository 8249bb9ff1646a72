"""Runs every engine's benchmark, one after the other (`make bench`).

Each benchmark prints its own figures next to its peer's as ratios; run one alone with
`.venv/bin/python bench/<name>.py --help`. The machine should be otherwise idle: the figures are wall-clock.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = ["core.py", "audit_verify.py", "tidy.py", "anon.py", "address.py"]


def main(argv: list[str]) -> int:
    names = argv or BENCHES
    failed = []
    for name in names:
        print(f"\n===== bench/{name} =====", flush=True)
        started = time.perf_counter()
        rc = subprocess.call([sys.executable, str(HERE / name)])
        print(f"===== bench/{name}: exit {rc} after {time.perf_counter() - started:.0f} s", flush=True)
        if rc:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Cold import: `import nexus_sdk` vs `import supabase`, each in fresh interpreters, as ``-X importtime`` reports.

Every sample is a new process (no module cached in memory; bytecode caches warmed once before measuring),
the two sides alternating so a burst of load on the machine hits both alike. The figure per process is the
cumulative time ``-X importtime`` gives the top-level module (interpreter start-up and ``site`` excluded,
the same for both). Also shown, without a target: the import a user's first line does
(``from nexus_sdk import NexusClient`` vs ``from supabase import create_client``).

Target: ``import nexus_sdk`` at most 0.15x ``import supabase`` (medians).
Run: ``PYTHONPATH=src python benchmarks/bench_import.py [runs]`` (default 21 per side).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

RUNS = 21
TARGET = 0.15
CASES = (
    ("import nexus_sdk", "import supabase", TARGET),
    ("from nexus_sdk import NexusClient", "from supabase import create_client", None),
)


def import_microseconds(statement: str) -> int:
    """The cumulative import time of the statement's top-level package, from a fresh interpreter."""
    package = statement.split()[1].split(".")[0]
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        capture_output=True,
        text=True,
        check=True,
        # Bytecode caches as an installed package has them (the warm-up writes them for a source tree).
        env={name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"},
    )
    total = 0
    for line in result.stderr.splitlines():
        # "import time: self [us] | cumulative | imported package", nesting shown by indentation
        parts = line.split("|")
        if len(parts) == 3 and parts[2].rstrip() == " " + package:
            total = int(parts[1])
    if not total:
        raise RuntimeError(f"no importtime line for {package!r}: {result.stderr[-500:]}")
    return total


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else RUNS
    for ours, theirs, _ in CASES:  # warm the bytecode caches of both
        import_microseconds(ours)
        import_microseconds(theirs)
    print(f"median of {runs} fresh processes per side, -X importtime, sides alternating")
    for ours, theirs, target in CASES:
        mine: list[int] = []
        other: list[int] = []
        for _ in range(runs):
            mine.append(import_microseconds(ours))
            other.append(import_microseconds(theirs))
        ratio = statistics.median(mine) / statistics.median(other)
        print(f"  {ours:40} {statistics.median(mine) / 1000:7.1f} ms")
        print(f"  {theirs:40} {statistics.median(other) / 1000:7.1f} ms")
        wanted = f"   (target <= {target}x)" if target is not None else "   (no target)"
        print(f"  {'ratio':40} {ratio:7.2f}x{wanted}")


if __name__ == "__main__":
    main()

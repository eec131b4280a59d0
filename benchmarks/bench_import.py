"""`import nexus_sdk` vs `import supabase`, each in fresh interpreters; prints the medians and the ratio.

Target: at most 0.5x. Run: `.venv/bin/python benchmarks/bench_import.py`.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

RUNS = 9
CODE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def median_import_seconds(module: str) -> float:
    samples = []
    for _ in range(RUNS):
        result = subprocess.run(
            [sys.executable, "-c", CODE.format(module=module)], capture_output=True, text=True, check=True
        )
        samples.append(float(result.stdout.strip()))
    return statistics.median(samples)


def main() -> None:
    median_import_seconds("nexus_sdk")  # warm the bytecode caches of both before measuring
    median_import_seconds("supabase")
    ours = median_import_seconds("nexus_sdk")
    theirs = median_import_seconds("supabase")
    print(f"import nexus_sdk: {ours * 1000:7.1f} ms  (median of {RUNS} fresh processes)")
    print(f"import supabase:  {theirs * 1000:7.1f} ms  (median of {RUNS} fresh processes)")
    print(f"ratio: {ours / theirs:.2f}x  (target <= 0.5x)")


if __name__ == "__main__":
    main()

"""Importing content adaptations into the local stack, as users run it, against a naive loop and COPY.

Four ways, interleaved round by round (the machine is noisy; medians are reported):

- cli: ``nexus-sdk import adaptations FILE --user-id U`` with its default options, in a fresh process,
  wall clock from start to exit (what users run: process start, reading the JSONL file, checkpoint file);
- library: ``import_rows`` of the same number of rows, already in memory, default options;
- naive: one ``insert().execute()`` per row through the official ``supabase`` client, on a sample
  (default 2,000 rows), rate extrapolated;
- COPY: the same rows with ``COPY ... FROM STDIN`` straight into PostgreSQL (the physical limit).

The stack runs in a process of its own (``nexus-sdk local start``), so the server does not share a GIL with
the client. The table is emptied before each measurement, so every run inserts into the same table size.
Targets (issue 16): the CLI >= 50x naive and >= 0.7 of COPY for a 100k-row file.
Run: ``python benchmarks/bench_import_rows.py [--rows N] [--sample M] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from typing import Any

from nexus_sdk import NexusClient
from nexus_sdk.io import import_rows

TARGET_VS_NAIVE = 50.0
TARGET_VS_COPY = 0.7


def start_stack(data_dir: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "nexus_sdk", "local", "start", "--port", "0", "--data-dir", data_dir],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    env: dict[str, str] = {}
    assert process.stdout is not None
    while "DATABASE_URL" not in env:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the local stack did not start")
        name, _, value = line.removeprefix("export ").strip().partition("=")
        env[name] = shlex.split(value)[0] if value else ""
    return process, env


def rows(count: int, tag: str) -> list[dict[str, object]]:
    return [
        {"original_idea": f"{tag} idea {i}", "tone": "casual",
         "adaptations": {"linkedin": {"text": f"{tag} linkedin {i}"}}}
        for i in range(count)
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-naive", action="store_true", help="Only the CLI, the library and COPY.")
    args = parser.parse_args()

    import psycopg
    from psycopg.types.json import Jsonb

    rates: dict[str, list[float]] = {"cli": [], "library": [], "naive": [], "copy": []}
    with tempfile.TemporaryDirectory() as data_dir:
        process, env = start_stack(data_dir)
        try:
            from nexus_sdk.local import create_auth_user

            user_id = str(create_auth_user(env["DATABASE_URL"], f"bench-{uuid.uuid4().hex[:6]}@example.com"))
            url, service = env["SUPABASE_URL"], env["SUPABASE_SERVICE_ROLE_KEY"]
            database = psycopg.connect(env["DATABASE_URL"], autocommit=True)

            def empty() -> None:
                database.execute("TRUNCATE public.content_adaptations CASCADE")
                database.execute("VACUUM ANALYZE public.content_adaptations")

            def cli(round_: int) -> float:
                source = os.path.join(data_dir, f"ideas-{round_}.jsonl")
                with open(source, "w", encoding="utf-8") as handle:
                    handle.writelines(json.dumps(row) + "\n" for row in rows(args.rows, f"cli{round_}"))
                child_env = {
                    **os.environ, "SUPABASE_URL": url, "SUPABASE_SERVICE_ROLE_KEY": service,
                    "NEXUS_ACCESS_TOKEN": "", "SUPABASE_ANON_KEY": env.get("SUPABASE_ANON_KEY", ""),
                }  # fmt: skip
                command = [
                    sys.executable,
                    "-m",
                    "nexus_sdk",
                    "import",
                    "adaptations",
                    source,
                    "--user-id",
                    user_id,
                ]
                started = time.perf_counter()
                done = subprocess.run(command, env=child_env, capture_output=True, text=True)
                seconds = time.perf_counter() - started
                if done.returncode != 0 or f"{args.rows} inserted" not in done.stdout:
                    raise RuntimeError(f"the CLI failed: {done.stdout}{done.stderr}")
                return args.rows / seconds

            def library(round_: int) -> float:
                with NexusClient(url, service) as client:
                    batch = rows(args.rows, f"lib{round_}")  # built before the clock, as COPY's rows are
                    started = time.perf_counter()
                    report = import_rows(client, "content_adaptations", batch, user_id=user_id)
                    seconds = time.perf_counter() - started
                assert report.inserted == args.rows, report.summary()
                return args.rows / seconds

            def naive(round_: int) -> float:
                from supabase import create_client

                supabase = create_client(url, service)
                sample = [{**row, "user_id": user_id} for row in rows(args.sample, f"naive{round_}")]
                started = time.perf_counter()
                for row in sample:
                    supabase.table("content_adaptations").insert(row).execute()
                return args.sample / (time.perf_counter() - started)

            def copy(round_: int) -> float:
                copied = rows(args.rows, f"copy{round_}")
                with psycopg.connect(env["DATABASE_URL"]) as conn:
                    started = time.perf_counter()
                    with conn.cursor().copy(
                        "COPY public.content_adaptations (id, user_id, original_idea, tone, adaptations) FROM STDIN"
                    ) as sink:
                        for row in copied:
                            sink.write_row(
                                (
                                    uuid.uuid4(),
                                    user_id,
                                    row["original_idea"],
                                    row["tone"],
                                    Jsonb(row["adaptations"]),
                                )
                            )
                    conn.commit()
                    return args.rows / (time.perf_counter() - started)

            ways: dict[str, Callable[[int], float]] = {"cli": cli, "library": library, "copy": copy}
            if not args.skip_naive:
                ways["naive"] = naive
            for round_ in range(args.rounds):
                # Each round in a different order, so no way always runs right after another.
                names = list(ways)
                shift = round_ % len(names)
                for name in names[shift:] + names[:shift]:
                    empty()
                    rates[name].append(ways[name](round_))
                    print(f"round {round_ + 1} {name}: {rates[name][-1]:,.0f} rows/s", file=sys.stderr)
        finally:
            process.terminate()
            process.wait(30)

    median = {name: statistics.median(values) for name, values in rates.items() if values}
    result: dict[str, Any] = {
        "rows": args.rows,
        "rounds": args.rounds,
        "median_rows_per_s": {name: round(value, 1) for name, value in median.items()},
    }
    for path in ("cli", "library"):
        line: dict[str, Any] = {"fraction_of_copy": round(median[path] / median["copy"], 3)}
        line["target_fraction_of_copy"] = TARGET_VS_COPY
        if "naive" in median:
            line["speedup_vs_naive"] = round(median[path] / median["naive"], 1)
            line["target_speedup_vs_naive"] = TARGET_VS_NAIVE
        line["target_met"] = (
            line["fraction_of_copy"] >= TARGET_VS_COPY
            and line.get("speedup_vs_naive", TARGET_VS_NAIVE) >= TARGET_VS_NAIVE
        )
        result[path] = line
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("NEXUS_LOG_LEVEL", "WARNING")
    main()

"""Importing content adaptations into the local stack, as users run it, against a naive loop and COPY.

Four ways, interleaved round by round (the machine is noisy; medians are reported):

- cli: ``nexus-sdk import adaptations FILE --user-id U`` with its default options, in a fresh process,
  wall clock from start to exit (what users run: process start, reading the JSONL file, checkpoint file);
- library: ``import_rows`` of the same number of rows, already in memory, default options;
- naive: one ``insert().execute()`` per row through the official ``supabase`` client, on a sample
  (default 2,000 rows), rate extrapolated;
- COPY: the same rows with ``COPY ... FROM STDIN`` straight into PostgreSQL (the physical limit).

The stack runs in a process of its own (``nexus-sdk local start``), so the server does not share a GIL with
the client. The table is emptied (and vacuumed) before each measurement, so every way inserts the same
number of rows of the same shape into the same empty table, through the same triggers and indexes.
The CLI runs as an installed package does, with its modules' bytecode compiled (pip compiles it at
install time): this machine may set PYTHONDONTWRITEBYTECODE, so the CLI gets a bytecode cache of its own
(PYTHONPYCACHEPREFIX), filled by one untimed run before the rounds.
Beside the rates: the CPU seconds of one run, the client's (the CLI process, or this process) and the
server's (the stack process and its PostgreSQL, read from /proc on Linux): the two share the machine.
Targets (issue 16): the CLI >= 50x naive and >= 0.7 of COPY for a 100k-row file.
Run: ``python benchmarks/bench_import_rows.py [--rows N] [--sample M] [--rounds R]``; ``--sweep 1000x2,1000x4``
also runs the CLI with those ``--batch-size`` x ``--concurrency`` pairs (how the defaults were chosen).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


def _process_tree_cpu(root: int) -> float:
    """CPU seconds used so far by ``root`` and its descendants (0.0 where /proc is not there)."""
    total, pending, ticks = 0, [root], os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    while pending:
        pid = pending.pop()
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
            total += int(fields[11]) + int(fields[12])
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    pending += [int(child) for child in children.read().split()]
        except (OSError, IndexError, ValueError):
            continue
    return total / ticks


def _postmaster(data_dir: str) -> int | None:
    """The PostgreSQL server of the stack: the postgres process running in ``data_dir`` (Linux only)."""
    names = os.listdir("/proc") if os.path.isdir("/proc") else []
    for name in names:
        try:
            if name.isdigit() and os.path.realpath(f"/proc/{name}/cwd").startswith(
                os.path.realpath(data_dir)
            ):
                with open(f"/proc/{name}/cmdline", "rb") as cmdline:
                    if b"postgres" in cmdline.read().split(b"\0")[0]:
                        return int(name)
        except OSError:
            continue
    return None


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
    parser.add_argument(
        "--sweep",
        default="",
        help="Also run the CLI with these BATCHxCONCURRENCY pairs, comma-separated (e.g. 1000x2,1000x4).",
    )
    args = parser.parse_args()
    sweep = [tuple(int(n) for n in pair.split("x")) for pair in args.sweep.split(",") if pair]

    import psycopg
    from psycopg.types.json import Jsonb

    rates: dict[str, list[float]] = {"cli": [], "library": [], "naive": [], "copy": []}
    cpu: dict[str, list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as data_dir:
        process, env = start_stack(data_dir)
        postmaster = _postmaster(data_dir)

        closing_backends: dict[str, float] = {}
        """CPU of a way's own database connection, read before it closed."""

        def server_cpu() -> float:
            return _process_tree_cpu(process.pid) + (_process_tree_cpu(postmaster) if postmaster else 0.0)

        try:
            from nexus_sdk.local import create_auth_user

            user_id = str(create_auth_user(env["DATABASE_URL"], f"bench-{uuid.uuid4().hex[:6]}@example.com"))
            url, service = env["SUPABASE_URL"], env["SUPABASE_SERVICE_ROLE_KEY"]
            database = psycopg.connect(env["DATABASE_URL"], autocommit=True)

            def empty() -> None:
                database.execute("TRUNCATE public.content_adaptations CASCADE")
                database.execute("VACUUM ANALYZE public.content_adaptations")

            child_env = {
                **os.environ, "SUPABASE_URL": url, "SUPABASE_SERVICE_ROLE_KEY": service,
                "NEXUS_ACCESS_TOKEN": "", "SUPABASE_ANON_KEY": env.get("SUPABASE_ANON_KEY", ""),
                "PYTHONPYCACHEPREFIX": os.path.join(data_dir, "bytecode"),
            }  # fmt: skip
            child_env.pop("PYTHONDONTWRITEBYTECODE", None)

            def run_cli(count: int, tag: str, options: list[str]) -> tuple[float, float]:
                source = os.path.join(data_dir, f"ideas-{tag}.jsonl")
                with open(source, "w", encoding="utf-8") as handle:
                    handle.writelines(json.dumps(row) + "\n" for row in rows(count, tag))
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
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                started = time.perf_counter()
                done = subprocess.run([*command, *options], env=child_env, capture_output=True, text=True)
                seconds = time.perf_counter() - started
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                if done.returncode != 0 or f"{count} inserted" not in done.stdout:
                    raise RuntimeError(f"the CLI failed: {done.stdout}{done.stderr}")
                os.remove(source)
                used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
                return count / seconds, used

            def cli(round_: int) -> tuple[float, float]:
                return run_cli(args.rows, f"cli{round_}", [])

            def swept(batch: int, concurrency: int) -> Callable[[int], tuple[float, float]]:
                options = ["--batch-size", str(batch), "--concurrency", str(concurrency)]
                return lambda round_: run_cli(args.rows, f"cli{batch}x{concurrency}-{round_}", options)

            def library(round_: int) -> tuple[float, float]:
                with NexusClient(url, service) as client:
                    batch = rows(args.rows, f"lib{round_}")  # built before the clock, as COPY's rows are
                    before = time.process_time()
                    started = time.perf_counter()
                    report = import_rows(client, "content_adaptations", batch, user_id=user_id)
                    seconds = time.perf_counter() - started
                    used = time.process_time() - before
                assert report.inserted == args.rows, report.summary()
                return args.rows / seconds, used

            def naive(round_: int) -> tuple[float, float]:
                from supabase import create_client

                supabase = create_client(url, service)
                sample = [{**row, "user_id": user_id} for row in rows(args.sample, f"naive{round_}")]
                before = time.process_time()
                started = time.perf_counter()
                for row in sample:
                    supabase.table("content_adaptations").insert(row).execute()
                return args.sample / (time.perf_counter() - started), time.process_time() - before

            def copy(round_: int) -> tuple[float, float]:
                copied = rows(args.rows, f"copy{round_}")
                with psycopg.connect(env["DATABASE_URL"]) as conn:
                    before = time.process_time()
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
                    seconds, used = time.perf_counter() - started, time.process_time() - before
                    # The backend exits with the connection, before the server's CPU is read again.
                    closing_backends["copy"] = _process_tree_cpu(conn.info.backend_pid)
                    return args.rows / seconds, used

            ways: dict[str, Callable[[int], tuple[float, float]]] = {
                "cli": cli,
                "library": library,
                "copy": copy,
            }
            if not args.skip_naive:
                ways["naive"] = naive
            for batch, concurrency in sweep:
                ways[f"cli {batch}x{concurrency}"] = swept(batch, concurrency)
                rates[f"cli {batch}x{concurrency}"] = []
            empty()
            run_cli(1000, "warm-up", [])  # fills the CLI's bytecode cache; not measured
            for round_ in range(args.rounds):
                # Each round in a different order, so no way always runs right after another.
                names = list(ways)
                shift = round_ % len(names)
                for name in names[shift:] + names[:shift]:
                    empty()
                    server_before = server_cpu()
                    rate, client_cpu = ways[name](round_)
                    rates[name].append(rate)
                    server_used = server_cpu() - server_before + closing_backends.pop(name, 0.0)
                    cpu.setdefault(name, []).append((client_cpu, server_used))
                    print(
                        f"round {round_ + 1} {name}: {rate:,.0f} rows/s "
                        f"(cpu s: client {client_cpu:.2f}, server {cpu[name][-1][1]:.2f})",
                        file=sys.stderr,
                    )
        finally:
            process.terminate()
            process.wait(30)

    median = {name: statistics.median(values) for name, values in rates.items() if values}
    result: dict[str, Any] = {
        "rows": args.rows,
        "rounds": args.rounds,
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "median_rows_per_s": {name: round(value, 1) for name, value in median.items()},
        # Per run (naive: per --sample rows); the server's is 0 where /proc is not there.
        "median_cpu_s": {
            name: {
                "client": round(statistics.median(c for c, _ in runs), 2),
                "server": round(statistics.median(s for _, s in runs), 2),
            }
            for name, runs in cpu.items()
        },
    }
    if sweep:
        result["sweep_fraction_of_copy"] = {
            name: round(median[name] / median["copy"], 3) for name in median if name.startswith("cli")
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

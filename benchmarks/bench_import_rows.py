"""Importing content adaptations into the local stack: ``import_rows`` vs a naive loop vs PostgreSQL's COPY.

- ours: ``import_rows`` of N rows (default 100,000) through the API, service role, batches of 1000;
  also ``import_file`` of N rows from a JSONL file (what ``nexus-sdk import`` runs), for information;
- naive: one ``insert().execute()`` per row through the official ``supabase`` client, on a sample
  (default 2,000 rows), rate extrapolated;
- COPY: the same N rows with ``COPY ... FROM STDIN`` straight into PostgreSQL (the physical limit).

The stack runs in a child process (``nexus-sdk local start``) so server and client do not share a GIL.
Target: ours >= 50x naive. Run: ``.venv/bin/python benchmarks/bench_import_rows.py [--rows N] [--sample M]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
import uuid

from nexus_sdk import NexusClient
from nexus_sdk.io import import_file, import_rows


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


def rows(count: int, user_id: str, tag: str) -> list[dict[str, object]]:
    return [
        {"user_id": user_id, "original_idea": f"{tag} idea {i}", "tone": "casual",
         "adaptations": {"linkedin": {"text": f"{tag} linkedin {i}"}}}
        for i in range(count)
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=2_000)
    args = parser.parse_args()

    import psycopg
    from psycopg.types.json import Jsonb

    with tempfile.TemporaryDirectory() as data_dir:
        process, env = start_stack(data_dir)
        try:
            from nexus_sdk.local import create_auth_user

            user_id = create_auth_user(env["DATABASE_URL"], f"bench-{uuid.uuid4().hex[:6]}@example.com")
            url, service = env["SUPABASE_URL"], env["SUPABASE_SERVICE_ROLE_KEY"]

            with NexusClient(url, service) as client:
                # Built before the clock starts, as the naive loop's sample and COPY's rows are.
                ours_rows = rows(args.rows, user_id, "ours")
                started = time.perf_counter()
                report = import_rows(client, "content_adaptations", ours_rows, batch_size=1000, concurrency=4)
                ours = args.rows / (time.perf_counter() - started)
                assert report.inserted == args.rows, report.summary()

                # What `nexus-sdk import` does: the same number of rows read from a JSONL file, with the
                # default checkpoint file saved after every batch.
                source = os.path.join(data_dir, "rows.jsonl")
                with open(source, "w", encoding="utf-8") as handle:
                    handle.writelines(json.dumps(row) + "\n" for row in rows(args.rows, user_id, "file"))
                started = time.perf_counter()
                report = import_file(client, "content_adaptations", source, batch_size=1000, concurrency=4)
                from_file = args.rows / (time.perf_counter() - started)
                assert report.inserted == args.rows, report.summary()

            from supabase import create_client

            supabase = create_client(url, service)
            sample = rows(args.sample, user_id, "naive")
            started = time.perf_counter()
            for row in sample:
                supabase.table("content_adaptations").insert(row).execute()
            naive = args.sample / (time.perf_counter() - started)

            copied = rows(args.rows, user_id, "copy")
            with psycopg.connect(env["DATABASE_URL"]) as conn:
                started = time.perf_counter()
                with conn.cursor().copy(
                    "COPY public.content_adaptations (id, user_id, original_idea, tone, adaptations) FROM STDIN"
                ) as copy:
                    for row in copied:
                        copy.write_row(
                            (
                                uuid.uuid4(),
                                user_id,
                                row["original_idea"],
                                row["tone"],
                                Jsonb(row["adaptations"]),
                            )
                        )
                conn.commit()
                copy_rate = args.rows / (time.perf_counter() - started)
        finally:
            process.terminate()
            process.wait(30)

    result = {
        "rows": args.rows,
        "import_rows_per_s": round(ours),
        "import_file_rows_per_s": round(from_file),
        "naive_supabase_rows_per_s": round(naive, 1),
        "copy_rows_per_s": round(copy_rate),
        "speedup_vs_naive": round(ours / naive, 1),
        "fraction_of_copy": round(ours / copy_rate, 3),
        "target_met": ours / naive >= 50,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("NEXUS_LOG_LEVEL", "WARNING")
    main()

"""Posts claimed, published and completed per second by 1, 2 and 4 publisher worker processes.

Each round schedules ``--posts`` due posts in SQL, starts the worker processes (each its own
``NexusClient`` running ``run_worker``: batches of ``--batch``, one publisher per post that sleeps
``--publish-ms`` to stand for the platform's API call), lets them go together once every process has
imported and connected, and stops the clock when the queue is empty. Everything goes through HTTP against
the local stack, which runs in this process, exactly as a deployment would talk to Supabase. Every post is
checked to be published exactly once.

Printed: posts/s per worker count, the speed-up over one worker and the target beside it (4 workers
>= 3x one, with a 10 ms platform call), and where one worker's time goes per post (the platform call and
the claim + complete round trips).

Each worker count runs ``--repeat`` rounds, the counts taking turns; the medians are printed.
Run: ``PYTHONPATH=src python benchmarks/bench_publish.py [--posts 400] [--repeat 3] [--publish-ms 10]``.
With ``--publish-ms 0`` it measures the stack's own throughput (claim + complete per post; on a 2-core
machine the API server, PostgreSQL and the workers share the cores, so expect well under linear scaling).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import time
import warnings
from multiprocessing.synchronize import Barrier, Event
from typing import Any

warnings.filterwarnings("ignore", category=UserWarning, module="platformdirs")

WORKER_COUNTS = (1, 2, 4)
TARGET_SPEEDUP = 3.0
"""4 worker processes vs 1, with a 10 ms platform call."""


def _prepare(database_url: str, user_id: str, connection_id: str, count: int) -> None:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM public.scheduled_posts")
        conn.execute("DELETE FROM public.published_posts")
        conn.execute(
            "INSERT INTO public.scheduled_posts (user_id, content, platform_connection_id, platform, status,"
            " scheduled_for) SELECT %s, 'post ' || g, %s, 'linkedin', 'scheduled', now() - interval '1 hour'"
            " FROM generate_series(1, %s) g",
            (user_id, connection_id, count),
        )


def _published(database_url: str) -> tuple[int, int]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(DISTINCT content) FROM public.published_posts),"
            " (SELECT count(*) FROM public.published_posts),"
            " (SELECT count(*) FROM public.scheduled_posts WHERE status = 'completed')"
        ).fetchone()
    assert row is not None
    distinct, total, completed = (int(value) for value in row)
    assert distinct == total, f"{total - distinct} post(s) published twice"
    return total, completed


def _worker(
    n: int, url: str, key: str, batch: int, publish_seconds: float, ready: Barrier, go: Event, out: Any
) -> None:
    """One worker process: import and connect, wait for the start, drain the queue, report its stats."""
    from nexus_sdk import NexusClient
    from nexus_sdk.worker import run_worker

    def publish(post: Any) -> None:
        if publish_seconds:
            time.sleep(publish_seconds)

    with NexusClient(url, key) as client:
        client.scheduled_posts.count()  # connect (and import what the first request needs) before the clock
        ready.wait()
        go.wait()
        stats = run_worker(
            client,
            {"linkedin": publish},
            worker_id=f"bench-{n}",
            batch_size=batch,
            idle_exit=0,
            handle_signals=False,
        )
    out.put((stats.published, stats.lost))


def _round(stack: Any, workers: int, batch: int, publish_seconds: float) -> float:
    context = mp.get_context("spawn")  # the stack's server thread runs here: never fork it
    ready = context.Barrier(workers + 1)
    go = context.Event()
    out = context.Queue()
    processes = [
        context.Process(
            target=_worker,
            args=(n, stack.url, stack.service_role_key, batch, publish_seconds, ready, go, out),
        )
        for n in range(workers)
    ]
    for process in processes:
        process.start()
    ready.wait(timeout=120)
    started = time.perf_counter()
    go.set()
    results = [out.get(timeout=600) for _ in processes]
    elapsed = time.perf_counter() - started
    for process in processes:
        process.join(timeout=60)
        if process.exitcode != 0:
            raise RuntimeError(f"a worker process exited with {process.exitcode}")
    lost = sum(result[1] for result in results)
    assert lost == 0, f"{lost} claim(s) lost"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--posts", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3, help="rounds per worker count; medians are shown")
    parser.add_argument("--publish-ms", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--workers", type=int, nargs="+", default=list(WORKER_COUNTS))
    parser.add_argument(
        "--no-sync-commit",
        action="store_true",
        help="run the embedded PostgreSQL with synchronous_commit=off, to see what waiting for the WAL"
        " flush of each completion costs",
    )
    options = parser.parse_args()
    publish_seconds = options.publish_ms / 1000

    from nexus_sdk import local

    with local.start(port=0) as stack:
        user_id, _ = stack.create_user("bench@example.com")
        import psycopg

        with psycopg.connect(stack.database_url, autocommit=True) as conn:
            row = conn.execute(
                "INSERT INTO public.platform_connections (user_id, platform, platform_user_id, access_token)"
                " VALUES (%s, 'linkedin', 'bench', 'nx1:placeholder:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA') RETURNING id",
                (user_id,),
            ).fetchone()
            if options.no_sync_commit:
                conn.execute("ALTER SYSTEM SET synchronous_commit = off")
                conn.execute("SELECT pg_reload_conf()")
        assert row is not None
        connection_id = str(row[0])

        # Warm-up: connection pools, plan caches, the API server's schema cache.
        _prepare(stack.database_url, user_id, connection_id, 100)
        _round(stack, 1, options.batch, 0)

        rates: dict[int, list[float]] = {workers: [] for workers in options.workers}
        # The worker counts take turns, repeat after repeat, so a burst of load hits each alike.
        for _ in range(options.repeat):
            for workers in options.workers:
                _prepare(stack.database_url, user_id, connection_id, options.posts)
                elapsed = _round(stack, workers, options.batch, publish_seconds)
                published = _published(stack.database_url)
                assert published == (options.posts, options.posts), f"published/completed: {published}"
                rates[workers].append(options.posts / elapsed)
        results = [(workers, statistics.median(values)) for workers, values in rates.items()]

    base = results[0][1]
    print(
        f"\nmedian of {options.repeat} rounds of {options.posts} due posts, batches of {options.batch},"
        f" a {options.publish_ms:g} ms platform call"
        " per post, worker processes, claim + publish + complete over HTTP to the local stack"
        + (", synchronous_commit=off" if options.no_sync_commit else "")
    )
    print(f"{'workers':>8} {'posts/s':>10} {'vs 1 worker':>12}")
    for workers, rate in results:
        target = (
            f"   (target >= {TARGET_SPEEDUP:g}x with a 10 ms call)" if workers == 4 and base != rate else ""
        )
        print(f"{workers:>8} {rate:>10.0f} {rate / base:>11.2f}x{target}")
    per_post_ms = 1000 / base
    print(
        f"one worker: {per_post_ms:.1f} ms per post = {options.publish_ms:g} ms platform call"
        f" + {per_post_ms - options.publish_ms:.1f} ms of claim/complete round trips and worker loop"
    )


if __name__ == "__main__":
    main()

"""Posts claimed and completed per second by 1, 2 and 4 publisher workers (threads) on the local stack.

Each round schedules ``POSTS`` due posts in SQL, then runs ``run_worker`` threads (batches of 50, a publisher
that does nothing) until the queue is empty, through HTTP against the local stack, exactly as a deployment
would, and reports throughput and the ratio to one worker. Every post is checked to be published once.

Run: ``.venv/bin/python benchmarks/bench_publish.py [posts]`` (default 2000). On a 2-core machine the API
server, PostgreSQL and the workers share the cores, so expect well under linear scaling.
"""

from __future__ import annotations

import sys
import threading
import time
import warnings
from typing import Any

warnings.filterwarnings("ignore", category=UserWarning, module="platformdirs")

POSTS = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
BATCH = 50
WORKER_COUNTS = (1, 2, 4)


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
            "SELECT (SELECT count(*) FROM public.published_posts),"
            " (SELECT count(*) FROM public.scheduled_posts WHERE status = 'completed')"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _round(stack: Any, workers: int) -> float:
    from nexus_sdk import NexusClient
    from nexus_sdk.worker import run_worker

    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            with NexusClient(stack.url, stack.service_role_key) as client:
                run_worker(
                    client,
                    {"linkedin": lambda post: None},
                    worker_id=f"bench-{n}",
                    batch_size=BATCH,
                    idle_exit=0,
                    handle_signals=False,
                )
        except BaseException as exc:  # reported after the round
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return elapsed


def main() -> None:
    from nexus_sdk import local

    with local.start(port=0) as stack:
        user_id, _ = stack.create_user("bench@example.com")
        import psycopg

        with psycopg.connect(stack.database_url, autocommit=True) as conn:
            row = conn.execute(
                "INSERT INTO public.platform_connections (user_id, platform, platform_user_id, access_token)"
                " VALUES (%s, 'linkedin', 'bench', 'ciphertext') RETURNING id",
                (user_id,),
            ).fetchone()
        assert row is not None
        connection_id = str(row[0])

        # Warm-up: connection pools, plan caches, the API server's schema cache.
        _prepare(stack.database_url, user_id, connection_id, 200)
        _round(stack, 1)

        results: list[tuple[int, float]] = []
        for workers in WORKER_COUNTS:
            _prepare(stack.database_url, user_id, connection_id, POSTS)
            elapsed = _round(stack, workers)
            assert _published(stack.database_url) == (POSTS, POSTS), "every post published exactly once"
            results.append((workers, POSTS / elapsed))

    base = results[0][1]
    print(f"\n{POSTS} due posts, batches of {BATCH}, claim + publish (no-op) + complete over HTTP")
    print(f"{'workers':>8} {'posts/s':>10} {'vs 1 worker':>12}")
    for workers, rate in results:
        print(f"{workers:>8} {rate:>10.0f} {rate / base:>11.2f}x")


if __name__ == "__main__":
    main()

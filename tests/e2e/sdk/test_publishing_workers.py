"""Publisher workers through the SDK over HTTP: exactly once under concurrency, recovery, retries, stopping.

Workers are real ``run_worker`` threads, ``arun_worker`` tasks, and (for the crash test) a separate process
killed with SIGKILL, all talking to the local stack as the service role.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from nexus_sdk import AsyncNexusClient, NexusClient
from nexus_sdk._redact import MASK
from nexus_sdk.models.publishing import ClaimedPost, PublishResult
from nexus_sdk.testing import NexusTestStack, NexusTestUser
from nexus_sdk.worker import PublishError, WorkerStats, arun_worker, run_worker

pytestmark = [pytest.mark.db, pytest.mark.e2e]

POSTS = 2000
WORKERS = 4
BATCH = 50


@pytest.fixture(scope="session")
def nexus_database_prefix() -> str:
    """Databases these tests create on NEXUS_TEST_DATABASE_URL's server carry this prefix."""
    return "h10_"


def _connection(stack: NexusTestStack, user: NexusTestUser, platform: str = "linkedin") -> str:
    row = (
        stack.sql()
        .execute(
            "INSERT INTO public.platform_connections (user_id, platform, platform_user_id, access_token)"
            " VALUES (%s, %s, 'pu', 'nx1:placeholder:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA') RETURNING id",
            (user.id, platform),
        )
        .fetchone()
    )
    assert row is not None
    return str(row[0])


def _due_posts(
    stack: NexusTestStack, user: NexusTestUser, count: int, platform: str = "linkedin"
) -> list[str]:
    """``count`` scheduled posts that are already due, in SQL (fast); their ids in due order."""
    connection = _connection(stack, user, platform)
    rows = (
        stack.sql()
        .execute(
            "INSERT INTO public.scheduled_posts (user_id, content, platform_connection_id, platform, status, scheduled_for)"
            " SELECT %s, 'post ' || g, %s, %s, 'scheduled', now() - interval '1 hour' + g * interval '1 ms'"
            " FROM generate_series(1, %s) g RETURNING id",
            (user.id, connection, platform, count),
        )
        .fetchall()
    )
    return [str(row[0]) for row in rows]


def _statuses(stack: NexusTestStack, ids: list[str]) -> Counter[str]:
    rows = stack.sql().execute("SELECT status FROM public.scheduled_posts WHERE id = ANY(%s::uuid[])", (ids,))
    return Counter(str(row[0]) for row in rows.fetchall())


def _client(stack: NexusTestStack) -> NexusClient:
    return NexusClient(stack.url, stack.service_role_key, anon_key=stack.anon_key)


def _check_exactly_once(stack: NexusTestStack, ids: list[str], published: list[str]) -> None:
    counts = Counter(published)
    assert len(counts) == len(ids), "every post was handed to a publisher"
    assert set(counts) == set(ids)
    assert max(counts.values()) == 1, "no post was handed to a publisher twice"
    assert _statuses(stack, ids) == Counter({"completed": len(ids)})
    row = (
        stack.sql()
        .execute(
            "SELECT count(*), count(DISTINCT s.id) FROM public.published_posts p"
            " JOIN public.scheduled_posts s ON s.published_post_id = p.id WHERE s.id = ANY(%s::uuid[])",
            (ids,),
        )
        .fetchone()
    )
    assert row == (len(ids), len(ids))
    total = stack.sql().execute("SELECT count(*) FROM public.published_posts").fetchone()
    assert total == (len(ids),), "no published row without its schedule"


def test_four_worker_threads_publish_2000_posts_exactly_once(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    ids = _due_posts(nexus_clean, nexus_user, POSTS)
    published: list[str] = []
    lock = threading.Lock()

    def publish(post: ClaimedPost) -> str:
        with lock:
            published.append(str(post.id))
        return f"li-{post.id}"

    results: list[WorkerStats] = []
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            with _client(nexus_clean) as client:
                stats = run_worker(
                    client,
                    {"linkedin": publish},
                    worker_id=f"thread-{n}",
                    batch_size=BATCH,
                    idle_exit=0,
                    handle_signals=False,
                )
            with lock:
                results.append(stats)
        except BaseException as exc:  # surfaced below: a worker thread must not fail silently
            errors.append(exc)

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(n,)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    elapsed = time.perf_counter() - started
    assert not errors
    assert len(results) == WORKERS
    _check_exactly_once(nexus_clean, ids, published)
    assert sum(s.published for s in results) == POSTS
    assert sum(s.claimed for s in results) == POSTS
    assert all(s.lost == s.errors == s.retried == 0 for s in results)
    # More than one worker took part (they share the queue rather than one doing everything).
    assert sum(1 for s in results if s.published) >= 2
    print(f"\n{POSTS} posts, {WORKERS} threads: {elapsed:.1f} s, {POSTS / elapsed:.0f} posts/s")
    assert elapsed < 120


async def test_four_async_workers_publish_2000_posts_exactly_once(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    ids = _due_posts(nexus_clean, nexus_user, POSTS)
    published: list[str] = []

    async def publish(post: ClaimedPost) -> PublishResult:
        published.append(str(post.id))
        await asyncio.sleep(0)  # let the other workers interleave
        return PublishResult(platform_post_id=f"li-{post.id}", metadata={"by": post.claimed_by})

    started = time.perf_counter()
    async with AsyncNexusClient(nexus_clean.url, nexus_clean.service_role_key) as client:
        results = await asyncio.gather(
            *(
                arun_worker(
                    client,
                    {"linkedin": publish},
                    worker_id=f"task-{n}",
                    batch_size=BATCH,
                    idle_exit=0,
                    handle_signals=False,
                )
                for n in range(WORKERS)
            )
        )
    elapsed = time.perf_counter() - started
    _check_exactly_once(nexus_clean, ids, published)
    assert sum(s.published for s in results) == POSTS
    assert sum(1 for s in results if s.published) >= 2
    row = (
        nexus_clean.sql()
        .execute("SELECT count(*) FROM public.published_posts WHERE metadata ->> 'by' LIKE 'task-%%'")
        .fetchone()
    )
    assert row == (POSTS,)
    print(f"\n{POSTS} posts, {WORKERS} asyncio tasks: {elapsed:.1f} s, {POSTS / elapsed:.0f} posts/s")
    assert elapsed < 120


WORKER_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from nexus_sdk import NexusClient
    from nexus_sdk.worker import run_worker

    def hang(post):
        print("publishing", post.id, flush=True)
        time.sleep(3600)

    with NexusClient.from_env() as nx:
        run_worker(nx, {"linkedin": hang}, worker_id="doomed", batch_size=5, lease=2, handle_signals=False)
    """
)


def test_posts_of_a_killed_worker_are_recovered_after_the_lease(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    ids = _due_posts(nexus_clean, nexus_user, 5)
    env = {
        **os.environ,
        "SUPABASE_URL": nexus_clean.url,
        "SUPABASE_SERVICE_ROLE_KEY": nexus_clean.service_role_key,
        "SUPABASE_ANON_KEY": nexus_clean.anon_key,
    }
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER_SCRIPT],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # the worker has claimed its batch and is publishing
        assert line.startswith("publishing"), process.stderr.read() if process.stderr else ""
    finally:
        process.kill()  # SIGKILL: no chance to hand anything back
        process.communicate(timeout=30)
    rows = nexus_clean.sql().execute(
        "SELECT count(*) FROM public.scheduled_posts WHERE status = 'processing' AND claimed_by = 'doomed'"
    )
    assert rows.fetchone() == (5,)

    published: list[str] = []

    def record(post: ClaimedPost) -> None:
        published.append(str(post.id))

    with _client(nexus_clean) as client:
        # Before the 2 s lease lapses, the posts are not claimable.
        assert client.scheduled_posts.claim_due(10, worker_id="early") == []
        stats = run_worker(
            client,
            {"linkedin": record},
            worker_id="rescuer",
            idle_exit=5,
            poll_interval=0.2,
            handle_signals=False,
        )
        assert stats.published == 5
        _check_exactly_once(nexus_clean, ids, published)
        # The dead worker, should it come back, cannot complete what was taken over.
        with pytest.raises(Exception, match="claimed by another worker") as lost:
            client.scheduled_posts.complete(ids[0], worker_id="doomed")
        assert getattr(lost.value, "details", None) == "claim_lost"
    rows = nexus_clean.sql().execute(
        "SELECT retry_count, last_error, claimed_by FROM public.scheduled_posts WHERE id = ANY(%s::uuid[])",
        (ids,),
    )
    for retry_count, last_error, claimed_by in rows.fetchall():
        assert (retry_count, claimed_by) == (1, "rescuer")
        assert "lease of worker doomed expired" in last_error


def test_failures_retry_with_backoff_give_up_and_never_store_secrets(
    nexus_clean: NexusTestStack,
    nexus_user: NexusTestUser,
    caplog: pytest.LogCaptureFixture,
) -> None:
    flaky, stubborn, rejected, leaky = _due_posts(nexus_clean, nexus_user, 4)
    [orphan] = _due_posts(nexus_clean, nexus_user, 1, platform="x")
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2lnbmF0dXJl"
    oauth = "AQX" + uuid.uuid4().hex + uuid.uuid4().hex
    attempts: Counter[str] = Counter()

    def publish(post: ClaimedPost) -> str:
        key = str(post.id)
        attempts[key] += 1
        if key == flaky and attempts[key] == 1:
            raise ConnectionError("platform timed out")
        if key == stubborn:
            raise PublishError("LinkedIn answered 503")
        if key == rejected:
            raise PublishError("LinkedIn refused the content: duplicate post", retryable=False)
        if key == leaky:
            raise RuntimeError(f"401 for Authorization: Bearer {token} (refresh_token={oauth})")
        return "li-ok"

    caplog.set_level(logging.DEBUG, logger="nexus_sdk")
    with _client(nexus_clean) as client:
        stats = run_worker(
            client,
            {"linkedin": publish},
            max_attempts=3,
            base_delay=0,
            idle_exit=1.0,
            poll_interval=0.1,
            handle_signals=False,
        )
    assert (stats.published, stats.gave_up, stats.lost) == (1, 4, 0)
    assert stats.retried == 1 + 2 + 2  # flaky once, stubborn and leaky twice each before the third attempt
    assert attempts == Counter({flaky: 2, stubborn: 3, rejected: 1, leaky: 3})

    rows = nexus_clean.sql().execute(
        "SELECT id::text, status, retry_count, last_error FROM public.scheduled_posts"
    )
    state = {row[0]: row[1:] for row in rows.fetchall()}
    assert state[flaky] == ("completed", 1, "ConnectionError: platform timed out")
    assert state[stubborn] == ("failed", 3, "LinkedIn answered 503")
    assert state[rejected] == ("failed", 1, "LinkedIn refused the content: duplicate post")
    assert state[orphan][:2] == ("failed", 1)
    assert "no publisher for platform 'x'" in state[orphan][2]
    status, retries, leaked = state[leaky]
    assert (status, retries) == ("failed", 3)
    assert leaked.startswith("RuntimeError: 401 for Authorization:")
    assert token not in leaked
    assert oauth not in leaked
    assert MASK in leaked
    assert token not in caplog.text
    assert oauth not in caplog.text
    assert nexus_clean.service_role_key not in caplog.text


def test_sigterm_stops_the_worker_and_hands_back_unstarted_posts(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    assert threading.current_thread() is threading.main_thread()
    ids = _due_posts(nexus_clean, nexus_user, 5)

    def ignore(signum: int, frame: Any) -> None:
        """Installed first, so a stray SIGTERM could never end the test session."""

    previous = signal.signal(signal.SIGTERM, ignore)
    try:

        def publish(post: ClaimedPost) -> str:
            os.kill(os.getpid(), signal.SIGTERM)  # as a process manager would, mid-batch
            return "li-1"

        with _client(nexus_clean) as client:
            stats = run_worker(client, {"linkedin": publish}, poll_interval=0.1)
        assert signal.getsignal(signal.SIGTERM) is ignore  # the worker's handler is gone again
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert (stats.claimed, stats.published, stats.released) == (5, 1, 4)
    assert _statuses(nexus_clean, ids) == Counter({"completed": 1, "scheduled": 4})
    rows = nexus_clean.sql().execute(
        "SELECT retry_count, last_error, scheduled_for <= now(), lease_expires_at"
        " FROM public.scheduled_posts WHERE status = 'scheduled'"
    )
    # Handed back for any worker to take at once, and not counted as an attempt (nothing was tried).
    assert rows.fetchall() == [(0, None, True, None)] * 4


async def test_async_stop_event_and_max_posts(nexus_clean: NexusTestStack, nexus_user: NexusTestUser) -> None:
    ids = _due_posts(nexus_clean, nexus_user, 6)
    stop = asyncio.Event()
    seen: list[str] = []

    async def publish(post: ClaimedPost) -> None:
        seen.append(str(post.id))
        stop.set()  # e.g. a shutdown requested elsewhere in the application

    async with AsyncNexusClient(nexus_clean.url, nexus_clean.service_role_key) as client:
        stats = await arun_worker(
            client, {"linkedin": publish}, stop=stop, batch_size=3, handle_signals=False
        )
        assert (stats.claimed, stats.published, stats.released) == (3, 1, 2)
        assert seen == ids[:1]

        limited = await arun_worker(client, {"linkedin": publish}, max_posts=2, handle_signals=False)
    assert (limited.claimed, limited.published) == (2, 2)
    assert _statuses(nexus_clean, ids) == Counter({"completed": 3, "scheduled": 3})


def test_a_user_client_cannot_run_a_worker(nexus_clean: NexusTestStack, nexus_user: NexusTestUser) -> None:
    from nexus_sdk.errors import PermissionDeniedError

    _due_posts(nexus_clean, nexus_user, 1)
    publish: Callable[[ClaimedPost], str] = lambda post: "never"  # noqa: E731
    with pytest.raises(PermissionDeniedError):
        run_worker(nexus_user.client, {"linkedin": publish}, idle_exit=0, handle_signals=False)

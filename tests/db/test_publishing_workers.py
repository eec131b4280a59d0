"""Publisher workers under concurrency, on real PostgreSQL: every due post is published exactly once.

Each worker is a thread with its own connection, calling the SQL functions as PostgREST's service role
(one committed transaction per call), as the real workers do through /rpc/.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from typing import Any

import psycopg
import pytest
from psycopg import errors

from tests.db._publishing import Conn, Session, make_due_posts, service_call

WORKERS = 4
POSTS = 2000


def _account(conn: Conn, make_user: Any) -> tuple[uuid.UUID, uuid.UUID]:
    user_id = make_user(conn)
    row = conn.execute(
        "insert into public.platform_connections (user_id, platform, platform_user_id, access_token)"
        " values (%s, 'linkedin', 'urn:li:person:1', 'nx1:test-key:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA') returning id",
        (user_id,),
    ).fetchone()
    assert row is not None
    return user_id, row[0]


def _flaky(post_id: uuid.UUID) -> bool:
    """About one post in ten fails on its first attempt (a transient platform error)."""
    return post_id.int % 10 == 0


def test_four_workers_publish_every_post_exactly_once(conn: Conn, database_url: str, make_user: Any) -> None:
    posts: list[uuid.UUID] = []
    for _ in range(2):
        user_id, connection_id = _account(conn, make_user)
        posts += make_due_posts(conn, user_id, connection_id, POSTS // 2)
    claims: list[tuple[str, uuid.UUID]] = []
    completions: list[tuple[str, uuid.UUID, uuid.UUID]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(WORKERS)

    def worker(name: str) -> None:
        try:
            with Session(database_url) as session:
                start.wait()
                while batch := session.call(
                    "claim_due_posts", worker_id=name, max_posts=20, lease_seconds=300
                ):
                    with lock:
                        claims.extend((name, row["id"]) for row in batch)
                    for row in batch:
                        if row["retry_count"] == 0 and _flaky(row["id"]):
                            # Back off by zero seconds, so the post is due again at once (for any worker).
                            session.call(
                                "fail_scheduled_post",
                                post_id=row["id"],
                                worker_id=name,
                                error_message="HTTP 503",
                                base_delay_seconds=0,
                            )
                            continue
                        [published] = session.call(
                            "complete_scheduled_post",
                            post_id=row["id"],
                            worker_id=name,
                            platform_post_id=str(row["id"]),
                        )
                        with lock:
                            completions.append((name, row["id"], published["id"]))
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(f"worker-{i}",)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert not any(t.is_alive() for t in threads)
    assert failures == []

    # Every post completed once, by exactly one worker; claimed once, or twice when its first attempt failed.
    assert len(completions) == POSTS
    assert {post for _, post, _ in completions} == set(posts)
    assert len({pub for _, _, pub in completions}) == POSTS
    claim_counts = Counter(post for _, post in claims)
    assert claim_counts == Counter({p: 2 if _flaky(p) else 1 for p in posts})
    assert len({name for name, _, _ in completions}) >= 2, "the workers did not actually run side by side"

    # And the database agrees: nothing lost, nothing doubled, each published row matches its schedule.
    rows = conn.execute(
        "select s.status, s.retry_count, p.platform_post_id = s.id::text and p.content = s.content"
        " and p.user_id = s.user_id and p.status = 'published'"
        " from public.scheduled_posts s left join public.published_posts p on p.id = s.published_post_id"
    ).fetchall()
    assert len(rows) == POSTS
    assert Counter((status, ok) for status, _, ok in rows) == Counter({("completed", True): POSTS})
    assert sum(retries for _, retries, _ in rows) == sum(1 for p in posts if _flaky(p))
    assert conn.execute(
        "select count(*), count(distinct platform_post_id) from public.published_posts"
    ).fetchone() == (
        POSTS,
        POSTS,
    )


def test_a_dead_workers_posts_are_recovered_after_the_lease(
    conn: Conn, database_url: str, make_user: Any
) -> None:
    user_id, connection_id = _account(conn, make_user)
    posts = make_due_posts(conn, user_id, connection_id, 10)
    # The dead worker claims, then never completes.
    dead = service_call(database_url, "claim_due_posts", worker_id="dead", max_posts=10, lease_seconds=600)
    assert [r["id"] for r in dead] == posts
    # While the lease runs, nobody else gets them.
    assert service_call(database_url, "claim_due_posts", worker_id="alive") == []
    # Move the clock past the lease.
    conn.execute("update public.scheduled_posts set lease_expires_at = now() - interval '1 second'")
    taken = service_call(database_url, "claim_due_posts", worker_id="alive", max_posts=10)
    assert [r["id"] for r in taken] == posts
    for row in taken:
        assert (row["claimed_by"], row["retry_count"]) == ("alive", 1)
        assert row["last_error"].startswith("lease of worker dead expired at ")
        service_call(database_url, "complete_scheduled_post", post_id=row["id"], worker_id="alive")
    # The dead worker waking up cannot publish a second time.
    with pytest.raises(errors.RaiseException) as info:
        service_call(database_url, "complete_scheduled_post", post_id=posts[0], worker_id="dead")
    assert info.value.diag.message_detail == "claim_lost"
    assert conn.execute("select count(*) from public.published_posts").fetchone() == (10,)
    assert conn.execute(
        "select count(*) from public.scheduled_posts where status = 'completed'"
    ).fetchone() == (10,)


def test_a_takeover_locks_out_the_old_worker(conn: Conn, database_url: str, make_user: Any) -> None:
    user_id, connection_id = _account(conn, make_user)
    [post] = make_due_posts(conn, user_id, connection_id, 1)
    service_call(database_url, "claim_due_posts", worker_id="slow", lease_seconds=1)
    time.sleep(1.2)  # a real lease of one second runs out
    [row] = service_call(database_url, "claim_due_posts", worker_id="fast")
    assert row["id"] == post
    with pytest.raises(errors.RaiseException) as info:
        service_call(database_url, "complete_scheduled_post", post_id=post, worker_id="slow")
    assert info.value.diag.message_detail == "claim_lost"
    with pytest.raises(errors.RaiseException):
        service_call(
            database_url, "fail_scheduled_post", post_id=post, worker_id="slow", error_message="late"
        )
    [published] = service_call(database_url, "complete_scheduled_post", post_id=post, worker_id="fast")
    assert published["status"] == "published"
    assert conn.execute("select count(*) from public.published_posts").fetchone() == (1,)


def test_a_lapsed_lease_nobody_took_can_still_be_completed(
    conn: Conn, database_url: str, make_user: Any
) -> None:
    """Refusing would lose a post that is already live on the platform."""
    user_id, connection_id = _account(conn, make_user)
    [post] = make_due_posts(conn, user_id, connection_id, 1)
    service_call(database_url, "claim_due_posts", worker_id="w1")
    conn.execute("update public.scheduled_posts set lease_expires_at = now() - interval '1 hour'")
    [published] = service_call(database_url, "complete_scheduled_post", post_id=post, worker_id="w1")
    assert published["status"] == "published"
    assert service_call(database_url, "claim_due_posts", worker_id="w2") == []


def test_a_post_that_keeps_killing_its_worker_is_given_up(
    conn: Conn, database_url: str, make_user: Any
) -> None:
    user_id, connection_id = _account(conn, make_user)
    [post] = make_due_posts(conn, user_id, connection_id, 1)
    # Three attempts, each ending with the worker gone; the fourth claim gives the post up.
    for attempt in range(3):
        [row] = service_call(database_url, "claim_due_posts", worker_id=f"w{attempt}", max_attempts=3)
        assert row["retry_count"] == attempt
        conn.execute("update public.scheduled_posts set lease_expires_at = now() - interval '1 second'")
    assert service_call(database_url, "claim_due_posts", worker_id="w3", max_attempts=3) == []
    row2 = conn.execute(
        "select status, retry_count, lease_expires_at, last_error from public.scheduled_posts where id = %s",
        (post,),
    ).fetchone()
    assert row2 is not None
    assert row2[:3] == ("failed", 3, None)
    assert "lease of worker w2 expired" in row2[3]


def test_a_processing_post_without_a_lease_is_claimable(
    conn: Conn, database_url: str, make_user: Any
) -> None:
    """Rows set to 'processing' before claims had leases must not be stuck forever."""
    user_id, connection_id = _account(conn, make_user)
    [post] = make_due_posts(conn, user_id, connection_id, 1)
    conn.execute("update public.scheduled_posts set status = 'processing' where id = %s", (post,))
    [row] = service_call(database_url, "claim_due_posts", worker_id="w")
    assert (row["id"], row["claimed_by"]) == (post, "w")


def test_concurrent_creators_of_the_same_idea_get_one_row(
    conn: Conn, database_url: str, make_user: Any
) -> None:
    user_id = make_user(conn)
    threads_n = 8
    rounds = 5
    results: list[tuple[int, uuid.UUID]] = []
    failures: list[BaseException] = []
    start = threading.Barrier(threads_n)
    lock = threading.Lock()

    def creator() -> None:
        try:
            with psycopg.connect(database_url, autocommit=True) as c:
                for r in range(rounds):
                    start.wait()
                    with c.transaction(), c.cursor() as cur:
                        cur.execute(
                            "select set_config('role', 'authenticated', true),"
                            " set_config('request.jwt.claims', %s, true)",
                            (f'{{"role": "authenticated", "sub": "{user_id}"}}',),
                        )
                        cur.execute("select id from public.create_idea(original_idea => %s)", (f"idea {r}",))
                        row = cur.fetchone()
                        assert row is not None
                    with lock:
                        results.append((r, row[0]))
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
            start.abort()

    threads = [threading.Thread(target=creator) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert failures == []
    assert len(results) == threads_n * rounds
    by_round: dict[int, set[uuid.UUID]] = {}
    for r, idea_id in results:
        by_round.setdefault(r, set()).add(idea_id)
    assert all(len(ids) == 1 for ids in by_round.values()), by_round
    assert conn.execute(
        "select count(*) from public.content_adaptations where user_id = %s", (user_id,)
    ).fetchone() == (rounds,)
